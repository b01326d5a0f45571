--[[
  decide.lua: one decision for one user, checked and recorded atomically.
  The twin of src/decision/evaluate.ts; test/conformance holds both to the same cases.

  KEYS[1]  impression ledger: a string of fixed-width records (src/store/ledger-codec.ts)
  KEYS[2]  preferences hash: marketing=off, snooze=<ms>, cat:<name>=off
  KEYS[3]  fatigue hash: b:<campaign code>=<backoff until ms>, x:<campaign code>=1 (complained)
  KEYS[4]  idempotency record for the request id (string), used only when the plan's requestId ~= ''
  ARGV[1]  the plan, positional JSON (src/store/plan-wire.ts; DecisionPlan in src/decision/types.ts):
           [now, decisionId, nonce, requestId, enforce 0|1, plc, horizonMs, ledgerTtlMs, leaseMs,
            releaseUnconfirmed 0|1, cooldownMs, idempotencyTtlMs, echo, caps, candidates]
           caps: {{id, limit, since, resetAt, windowMs, cmp, cat, plc}, ...}, each distinct cap once
           candidates: {{cls, pri, cmp, cat, catName, final, gate, gateRetryMs, {cap index, ...}}, ...}

  Returns  {replayed (0|1), outcome JSON}; outcome = {d = decision id, w = winner index (0-based, -1 for none),
           v = {{reason, capId or '', retryMs or -1, unenforced 0|1}, ...}, e = echo}
]]
-- The plan's fields stay where cjson put them: rebuilding them as named tables cost ~3 us a call.
local w = cjson.decode(ARGV[1])
local now, decisionId, nonce, requestId = w[1], w[2], w[3], w[4]
local enforce, planPlc, horizonMs, ledgerTtlMs, leaseMs = w[5] == 1, w[6], w[7], w[8], w[9]
local releaseUnconfirmed, cooldownMs, idempotencyTtlMs, echo = w[10] == 1, w[11], w[12], w[13]
local allCaps, candidates = w[14], w[15]
-- Positions in a candidate array.
local CLS, PRI, CMP, CAT, CAT_NAME, FINAL, GATE, GATE_RETRY_MS, CAPS = 1, 2, 3, 4, 5, 6, 7, 8, 9

if requestId ~= '' then
  local prior = redis.call('GET', KEYS[4])
  if prior then return {1, prior} end
end

-- REC, sub and base36 come from ledger-lib.lua, prepended when the script is loaded.
-- The ledger, pruned of entries no rule can see and of released reservations.
local raw = redis.call('GET', KEYS[1]) or ''
local ledger = {}
local oldest = now - horizonMs
local pruned = false
for p = 1, #raw - REC + 1, REC do
  local ts = tonumber(sub(raw, p, p + 7), 36)
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

-- Preferences and fatigue, read only for the fields the candidates need.
local prefFields, fatigueFields = {'marketing', 'snooze'}, {}
for _, c in ipairs(candidates) do
  if c[FINAL] == '' and c[CLS] ~= 'c' then
    prefFields[#prefFields + 1] = 'cat:' .. c[CAT_NAME]
    fatigueFields[#fatigueFields + 1] = 'b:' .. c[CMP]
    fatigueFields[#fatigueFields + 1] = 'x:' .. c[CMP]
  end
end
local prefs, fatigue = {}, {}
if #fatigueFields > 0 then
  local values = redis.call('HMGET', KEYS[2], unpack(prefFields))
  for i, f in ipairs(prefFields) do prefs[f] = values[i] end
  values = redis.call('HMGET', KEYS[3], unpack(fatigueFields))
  for i, f in ipairs(fatigueFields) do fatigue[f] = values[i] end
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

local function consentVerdict(c)
  if c[CLS] == 'm' and prefs['marketing'] == 'off' then return {'opted_out', '', -1} end
  if prefs['cat:' .. c[CAT_NAME]] == 'off' then return {'opted_out', '', -1} end
  local snooze = tonumber(prefs['snooze'] or '')
  if c[CLS] == 'm' and snooze and snooze > now then return {'opted_out', '', snooze - now} end
  if fatigue['x:' .. c[CMP]] then return {'fatigue', '', -1} end
  return nil
end

local function frequencyVerdict(c)
  if c[GATE] ~= '' then
    return {c[GATE], '', c[GATE_RETRY_MS] > 0 and c[GATE_RETRY_MS] or -1}
  end
  local backoff = tonumber(fatigue['b:' .. c[CMP]] or '')
  if backoff and backoff > now then return {'fatigue', '', backoff - now} end
  if c[CLS] ~= 'm' then return nil end
  if cooldownMs > 0 then
    local last = nil
    for _, i in ipairs(ledger) do
      if i.cls == 'm' and (last == nil or i.ts > last) then last = i.ts end
    end
    if last and now - last < cooldownMs then return {'cooldown', '', last + cooldownMs - now} end
  end
  for _, k in ipairs(c[CAPS]) do
    local v = capVerdict(allCaps[k])
    if v then return v end
  end
  return nil
end

local function verdictOf(c)
  if c[FINAL] ~= '' then return {c[FINAL], '', -1, 0} end
  if c[CLS] == 'c' then return {'eligible', '', -1, 0} end
  local v = consentVerdict(c)
  if v then v[4] = 0 return v end
  v = frequencyVerdict(c)
  if not v then return {'eligible', '', -1, 0} end
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
if winner ~= -1 or pruned then
  if #records > 0 then
    redis.call('SET', KEYS[1], table.concat(records), 'PX', ledgerTtlMs)
  else
    redis.call('DEL', KEYS[1])
  end
end

local outcome = cjson.encode({d = decisionId, w = (winner == -1) and -1 or (winner - 1), v = verdicts, e = echo})
if requestId ~= '' then
  redis.call('SET', KEYS[4], outcome, 'PX', idempotencyTtlMs)
end
return {0, outcome}
