-- keys: 4
-- uses: ledger-lib
--[[
  decide.lua: one decision for one user, checked and recorded atomically.
  The twin of src/rules/decide/evaluate.ts; test/conformance holds both to the same cases.

  KEYS[1]  impression ledger: a string of fixed-width records (src/redis/user-store/ledger-codec.ts), at most LEDGER_MAX
  KEYS[2]  preferences hash: marketing=off, snooze=<ms>, cat:<name>=off
  KEYS[3]  fatigue hash: b:<campaign code>=<backoff until ms>, x:<campaign code>=1 (complained)
  KEYS[4]  idempotency hash: <requestId> = base36(expires at ms) .. nonce(8) .. outcome JSON, at most REPLIES_MAX
           fields; read and written only when the plan's requestId ~= ''
  ARGV[1]  the plan, positional JSON (src/redis/user-store/plan-wire.ts; DecisionPlan in src/rules/decide/types.ts):
           [now, decisionId, nonce, requestId, enforce 0|1, plc, horizonMs, ledgerTtlMs, leaseMs,
            releaseUnconfirmed 0|1, cooldownMs, idempotencyTtlMs, echo, caps, candidates, deadline,
           cooldownShadow 0|1, fatigueShadow 0|1]
           caps: {{id, limit, since, resetAt, windowMs, cmp, cat, plc, shadow 0|1}, ...}, each distinct cap once
           candidates: {{cls, pri, cmp, cat, catName, final, gate, gateRetryMs, {cap index, ...}, shadowGate}, ...}
           deadline: ms in Redis's own clock (TIME) after which the script must record nothing; 0: none
           A rule in shadow mode (cap shadow 1, cooldownShadow, fatigueShadow, shadowGate 'quiet_hours') never
           stops a candidate: the first that would have is reported in the verdict's shadow fields.

  Returns  {status, outcome JSON}: status 0 decided now, 1 replayed (the first answer to this requestId),
           2 late (started after the deadline: nothing read or written, outcome ''); outcome =
           {d = decision id, w = winner index (0-based, -1 for none),
            v = {{reason, capId or '', retryMs or -1, unenforced 0|1[, shadowReason, shadowCapId or '']}, ...}, e = echo,
            c = 1 when no consent rule (opt-out, category opt-out, snooze, complaint, backoff) is in force for the user}
]]
-- The plan's fields stay where cjson put them: rebuilding them as named tables cost ~3 us a call.
-- num() and str() (ledger-lib.lua) make every scalar safe to compare and concatenate, whatever ARGV holds.
local w = cjson.decode(ARGV[1])
local now, decisionId, requestId = num(w[1], 0), str(w[2]), str(w[4])
local nonce = sub(str(w[3]) .. NONCE_PAD, 1, NONCE_LEN)
local enforce, planPlc, horizonMs, ledgerTtlMs, leaseMs = w[5] == 1, str(w[6]), num(w[7], 0), num(w[8], 1), num(w[9], 0)
local releaseUnconfirmed, cooldownMs, idempotencyTtlMs, echo = w[10] == 1, num(w[11], 0), num(w[12], 1), str(w[13])
local allCaps, candidates, deadline = w[14], w[15], num(w[16], 0)
local cooldownShadow, fatigueShadow = w[17] == 1, w[18] == 1
-- Candidates and caps are built by planDecision from the policy alone: no client value chooses their types.
if type(allCaps) ~= 'table' then allCaps = {} end
if type(candidates) ~= 'table' then candidates = {} end
-- Positions in a candidate array.
local CLS, PRI, CMP, CAT, CAT_NAME, FINAL, GATE, GATE_RETRY_MS, CAPS, SHADOW_GATE = 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
-- Position of a cap's shadow flag.
local CAP_SHADOW = 9

if requestId ~= '' then
  local prior = redis.call('HGET', KEYS[4], requestId)
  if prior and (tonumber(sub(prior, 1, 8), 36) or 0) > now then return {1, sub(prior, 17)} end
end

-- The client stops waiting a little after this deadline: past it, a reservation would hold a slot
-- for an answer nobody receives, so a late script records nothing (docs/architecture.md).
if deadline > 0 then
  local t = redis.call('TIME')
  if (tonumber(t[1]) or 0) * 1000 + (tonumber(t[2]) or 0) / 1000 > deadline then return {2, ''} end
end

-- The ledger, pruned of entries no rule can see and of released reservations. An unreadable
-- timestamp reads as 0: the record is pruned, never an error.
local raw = redis.call('GET', KEYS[1]) or ''
local ledger = {}
local oldest = now - horizonMs
local pruned = false
for p = 1, #raw - REC + 1, REC do
  local ts = tonumber(sub(raw, p, p + 7), 36) or 0
  local state = sub(raw, p + 8, p + 8)
  if ts >= oldest and not (releaseUnconfirmed and state == 'r' and ts + leaseMs <= now) then
    ledger[#ledger + 1] = {
      ts = ts, cls = sub(raw, p + 9, p + 9), cmp = sub(raw, p + 10, p + 15),
      cat = sub(raw, p + 16, p + 21), plc = sub(raw, p + 22, p + 27), rec = sub(raw, p, p + REC - 1)
    }
  else
    pruned = true
  end
end

-- Preferences and fatigue, read only when a candidate's rules need them.
local needsState = false
for _, c in ipairs(candidates) do
  if c[FINAL] == '' and c[CLS] ~= 'c' then needsState = true end
end
-- Read whole (both are small): the answer also says whether no consent rule stops any marketing
-- campaign for this user (clear = 1), so the over-limit cache may cover campaigns this request did not name.
local prefs, fatigue, clear = {}, {}, 0
if needsState then
  clear = 1
  local all = redis.call('HGETALL', KEYS[2])
  for i = 1, #all, 2 do
    local f, v = all[i], all[i + 1]
    prefs[f] = v
    if v == 'off' or (f == 'snooze' and (tonumber(v) or 0) > now) then clear = 0 end
  end
  all = redis.call('HGETALL', KEYS[3])
  for i = 1, #all, 2 do
    local f, v = all[i], all[i + 1]
    fatigue[f] = v
    local kind = sub(f, 1, 2)
    if kind == 'x:' or (kind == 'b:' and (tonumber(v) or 0) > now) then clear = 0 end
  end
end

local function capVerdict(cap)
  local id, limit, since, resetAt, windowMs, cmp, cat, plc = unpack(cap)
  local counted = {}
  for _, i in ipairs(ledger) do
    if i.cls == 'm' and i.ts >= since and (cmp == '' or i.cmp == cmp)
      and (cat == '' or i.cat == cat) and (plc == '' or i.plc == plc) then
      counted[#counted + 1] = i.ts
    end
  end
  if #counted < limit then return nil end
  table.sort(counted)
  if resetAt > 0 then return {'cap_exceeded', id, resetAt - now} end
  local leaving = counted[#counted - limit + 1]
  if leaving then return {'cap_exceeded', id, leaving + windowMs - now} end
  return {'cap_exceeded', id, -1}
end

-- Each distinct cap is counted once per decision, however many candidates share it.
local capVerdicts = {}
local function capVerdictOf(k)
  local v = capVerdicts[k]
  if v == nil then
    v = allCaps[k] and capVerdict(allCaps[k]) or false
    capVerdicts[k] = v
  end
  return v or nil
end

local function consentVerdict(c)
  if c[CLS] == 'm' and prefs['marketing'] == 'off' then return {'opted_out', '', -1} end
  if prefs['cat:' .. c[CAT_NAME]] == 'off' then return {'opted_out', '', -1} end
  local snooze = tonumber(prefs['snooze'] or '')
  if c[CLS] == 'm' and snooze and snooze > now then return {'opted_out', '', snooze - now} end
  if fatigue['x:' .. c[CMP]] then return {'fatigue', '', -1} end
  return nil
end

-- A candidate no applied rule stopped, with the first rule in shadow mode that would have (reason, cap id).
local function shadowOnly(reason, capId)
  if reason then return {'eligible', '', -1, 0, reason, capId} end
  return nil
end

local function frequencyVerdict(c)
  if c[GATE] ~= '' then
    return {c[GATE], '', c[GATE_RETRY_MS] > 0 and c[GATE_RETRY_MS] or -1}
  end
  local shadow, shadowCap = nil, ''
  if type(c[SHADOW_GATE]) == 'string' and c[SHADOW_GATE] ~= '' then shadow = c[SHADOW_GATE] end
  local backoff = tonumber(fatigue['b:' .. c[CMP]] or '')
  if backoff and backoff > now then
    if not fatigueShadow then return {'fatigue', '', backoff - now} end
    shadow = shadow or 'fatigue'
  end
  if c[CLS] ~= 'm' then return shadowOnly(shadow, shadowCap) end
  if cooldownMs > 0 then
    local last = nil
    for _, i in ipairs(ledger) do
      if i.cls == 'm' and (last == nil or i.ts > last) then last = i.ts end
    end
    if last and now - last < cooldownMs then
      if not cooldownShadow then return {'cooldown', '', last + cooldownMs - now} end
      shadow = shadow or 'cooldown'
    end
  end
  for _, k in ipairs(c[CAPS]) do
    local v = capVerdictOf(k)
    if v then
      if allCaps[k][CAP_SHADOW] ~= 1 then return v end
      if not shadow then shadow, shadowCap = 'cap_exceeded', v[2] end
    end
  end
  return shadowOnly(shadow, shadowCap)
end

local function verdictOf(c)
  if c[FINAL] ~= '' then return {c[FINAL], '', -1, 0} end
  if c[CLS] == 'c' then return {'eligible', '', -1, 0} end
  local v = consentVerdict(c)
  if v then v[4] = 0 return v end
  v = frequencyVerdict(c)
  if not v then return {'eligible', '', -1, 0} end
  if v[1] == 'eligible' then return v end
  v[4] = enforce and 0 or 1
  return v
end

local function lastShown(cmp)
  local last = 0
  for _, i in ipairs(ledger) do
    if i.cmp == cmp and i.ts > last then last = i.ts end
  end
  return last
end

local verdicts = {}
local winner, winnerPri, winnerLast = -1, -1, nil
for idx, c in ipairs(candidates) do
  local v = verdictOf(c)
  verdicts[idx] = v
  if v[1] == 'eligible' or v[4] == 1 then
    -- The ledger is scanned for the last showing only to break a tie in priority.
    if winner == -1 or c[PRI] > winnerPri then
      winner, winnerPri, winnerLast = idx, c[PRI], nil
    elseif c[PRI] == winnerPri then
      winnerLast = winnerLast or lastShown(candidates[winner][CMP])
      local last = lastShown(c[CMP])
      if last < winnerLast then winner, winnerLast = idx, last end
    end
  end
end
for idx, v in ipairs(verdicts) do
  if idx ~= winner and v[1] == 'eligible' then v[1] = 'lower_priority' end
end

local records = {}
for _, i in ipairs(ledger) do records[#records + 1] = i.rec end
if winner ~= -1 then
  local c = candidates[winner]
  records[#records + 1] = base36(now) .. 'r' .. c[CLS] .. c[CMP] .. c[CAT] .. planPlc .. nonce
end
-- At most LEDGER_MAX records: the oldest service/critical records go first (no cap counts them),
-- then the oldest; never the one just added. The twin of capLedger in src/rules/decide/limits.ts.
local excess = #records - LEDGER_MAX
if excess > 0 then
  local dropped = {}
  for i = 1, #records - 1 do
    if excess == 0 then break end
    if sub(records[i], 10, 10) ~= 'm' then dropped[i] = true excess = excess - 1 end
  end
  local kept = {}
  for i = 1, #records do
    if not dropped[i] then
      if excess > 0 then excess = excess - 1 else kept[#kept + 1] = records[i] end
    end
  end
  records = kept
end
if winner ~= -1 or pruned then
  if #records > 0 then
    redis.call('SET', KEYS[1], table.concat(records), 'PX', ledgerTtlMs)
  else
    redis.call('DEL', KEYS[1])
  end
end

local outcome = cjson.encode({d = decisionId, w = (winner == -1) and -1 or (winner - 1), v = verdicts, e = echo, c = clear})
if requestId ~= '' then
  redis.call('HSET', KEYS[4], requestId, base36(now + idempotencyTtlMs) .. nonce .. outcome)
  redis.call('PEXPIRE', KEYS[4], idempotencyTtlMs)
  -- Bounded: the record that makes REPLIES_MAX + 1 drops the expired ones and keeps the REPLIES_KEPT
  -- newest (oldest first by expiry, then by nonce). The twin of pruneReplies in src/memory/user-store.ts.
  if redis.call('HLEN', KEYS[4]) > REPLIES_MAX then
    local all = redis.call('HGETALL', KEYS[4])
    local live, drop = {}, {}
    for i = 1, #all, 2 do
      local v = all[i + 1]
      local expires = tonumber(sub(v, 1, 8), 36) or 0
      if expires > now then
        live[#live + 1] = {f = all[i], x = expires, n = tonumber(sub(v, 9, 16), 16) or 0}
      else
        drop[#drop + 1] = all[i]
      end
    end
    table.sort(live, function (a, b) if a.x ~= b.x then return a.x < b.x end return a.n < b.n end)
    for i = 1, #live - REPLIES_KEPT do drop[#drop + 1] = live[i].f end
    for i = 1, #drop, 100 do redis.call('HDEL', KEYS[4], unpack(drop, i, math.min(i + 99, #drop))) end
  end
end
return {0, outcome}
