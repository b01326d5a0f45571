--[[
  decide.lua: one decision for one user, checked and recorded atomically.
  The twin of src/decision/evaluate.ts; test/conformance holds both to the same cases.

  KEYS[1]  impression ledger: a string of fixed-width records (src/store/ledger-codec.ts)
  KEYS[2]  preferences hash: marketing=off, snooze=<ms>, cat:<name>=off
  KEYS[3]  fatigue hash: b:<campaign code>=<backoff until ms>, x:<campaign code>=1 (complained)
  KEYS[4]  idempotency record for the request id (string), used only when plan.requestId ~= ''
  ARGV[1]  the plan, positional JSON (src/store/plan-wire.ts; DecisionPlan in src/decision/types.ts):
           [now, decisionId, nonce, requestId, enforce 0|1, plc, horizonMs, ledgerTtlMs, leaseMs,
            releaseUnconfirmed 0|1, cooldownMs, idempotencyTtlMs, echo, caps, candidates]
           caps: {{id, limit, since, resetAt, windowMs, cmp, cat, plc}, ...}, each distinct cap once
           candidates: {{cls, pri, cmp, cat, catName, final, gate, gateRetryMs, {cap index, ...}}, ...}

  Returns  {replayed (0|1), outcome JSON}; outcome = {d = decision id, w = winner index (0-based, -1 for none),
           v = {{reason, capId or '', retryMs or -1, unenforced 0|1}, ...}, e = echo}
]]
local w = cjson.decode(ARGV[1])
local plan = {now = w[1], decisionId = w[2], nonce = w[3], requestId = w[4], enforce = w[5] == 1, plc = w[6],
  horizonMs = w[7], ledgerTtlMs = w[8], leaseMs = w[9], releaseUnconfirmed = w[10] == 1, cooldownMs = w[11],
  idempotencyTtlMs = w[12], echo = w[13], candidates = {}}
local allCaps = w[14]
for i, a in ipairs(w[15]) do
  local caps = {}
  for j, k in ipairs(a[9]) do caps[j] = allCaps[k] end
  plan.candidates[i] = {cls = a[1], pri = a[2], cmp = a[3], cat = a[4], catName = a[5], final = a[6], gate = a[7],
    gateRetryMs = a[8], caps = caps}
end
local now = plan.now

if plan.requestId ~= '' then
  local prior = redis.call('GET', KEYS[4])
  if prior then return {1, prior} end
end

local REC = 36
local DIGITS = '0123456789abcdefghijklmnopqrstuvwxyz'
local sub = string.sub

local function base36(n)
  local s = ''
  repeat
    local d = n % 36
    s = sub(DIGITS, d + 1, d + 1) .. s
    n = math.floor(n / 36)
  until n == 0
  return string.rep('0', 8 - #s) .. s
end

-- The ledger, pruned of entries no rule can see and of released reservations.
local raw = redis.call('GET', KEYS[1]) or ''
local ledger = {}
local oldest = now - plan.horizonMs
local pruned = false
for p = 1, #raw - REC + 1, REC do
  local ts = tonumber(sub(raw, p, p + 7), 36)
  local state = sub(raw, p + 8, p + 8)
  if ts >= oldest and not (plan.releaseUnconfirmed and state == 'r' and ts + plan.leaseMs <= now) then
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
for _, c in ipairs(plan.candidates) do
  if c.final == '' and c.cls ~= 'c' then
    prefFields[#prefFields + 1] = 'cat:' .. c.catName
    fatigueFields[#fatigueFields + 1] = 'b:' .. c.cmp
    fatigueFields[#fatigueFields + 1] = 'x:' .. c.cmp
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
  if c.cls == 'm' and prefs['marketing'] == 'off' then return {'opted_out', '', -1} end
  if prefs['cat:' .. c.catName] == 'off' then return {'opted_out', '', -1} end
  local snooze = tonumber(prefs['snooze'] or '')
  if c.cls == 'm' and snooze and snooze > now then return {'opted_out', '', snooze - now} end
  if fatigue['x:' .. c.cmp] then return {'fatigue', '', -1} end
  return nil
end

local function frequencyVerdict(c)
  if c.gate ~= '' then
    return {c.gate, '', c.gateRetryMs > 0 and c.gateRetryMs or -1}
  end
  local backoff = tonumber(fatigue['b:' .. c.cmp] or '')
  if backoff and backoff > now then return {'fatigue', '', backoff - now} end
  if c.cls ~= 'm' then return nil end
  if plan.cooldownMs > 0 then
    local last = nil
    for _, i in ipairs(ledger) do
      if i.cls == 'm' and (last == nil or i.ts > last) then last = i.ts end
    end
    if last and now - last < plan.cooldownMs then return {'cooldown', '', last + plan.cooldownMs - now} end
  end
  for _, cap in ipairs(c.caps) do
    local v = capVerdict(cap)
    if v then return v end
  end
  return nil
end

local function verdictOf(c)
  if c.final ~= '' then return {c.final, '', -1, 0} end
  if c.cls == 'c' then return {'eligible', '', -1, 0} end
  local v = consentVerdict(c)
  if v then v[4] = 0 return v end
  v = frequencyVerdict(c)
  if not v then return {'eligible', '', -1, 0} end
  v[4] = plan.enforce and 0 or 1
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
local winner, winnerPri, winnerLast = -1, -1, 0
for idx, c in ipairs(plan.candidates) do
  local v = verdictOf(c)
  verdicts[idx] = v
  if v[1] == 'eligible' or v[4] == 1 then
    local last = lastShown(c.cmp)
    if winner == -1 or c.pri > winnerPri or (c.pri == winnerPri and last < winnerLast) then
      winner, winnerPri, winnerLast = idx, c.pri, last
    end
  end
end
for idx, v in ipairs(verdicts) do
  if idx ~= winner and v[1] == 'eligible' then v[1] = 'lower_priority' end
end

local records = {}
for _, i in ipairs(ledger) do records[#records + 1] = i.rec end
if winner ~= -1 then
  local c = plan.candidates[winner]
  records[#records + 1] = base36(now) .. 'r' .. c.cls .. c.cmp .. c.cat .. plan.plc .. plan.nonce
end
if winner ~= -1 or pruned then
  if #records > 0 then
    redis.call('SET', KEYS[1], table.concat(records), 'PX', plan.ledgerTtlMs)
  else
    redis.call('DEL', KEYS[1])
  end
end

local outcome = cjson.encode({d = plan.decisionId, w = (winner == -1) and -1 or (winner - 1), v = verdicts, e = plan.echo})
if plan.requestId ~= '' then
  redis.call('SET', KEYS[4], outcome, 'PX', plan.idempotencyTtlMs)
end
return {0, outcome}
