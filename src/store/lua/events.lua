--[[
  events.lua: one user's client events (shown, discarded, dismissed, ...) applied atomically, in order.
  The twin of src/events/apply.ts; test/conformance holds both to the same cases.

  KEYS[1]  impression ledger (see decide.lua): `shown` confirms a record (r -> c), `discarded` removes it
  KEYS[2]  fatigue hash: b:<code>=<backoff until ms>, x:<code>=1 (complained), d:<code>=<ts36>,... (recent dismissals)
  KEYS[3]  dedupe log: a string of 17-byte records ts(8, base36 ms) type(1) nonce(8), one per applied event
  ARGV[1]  the batch as JSON (EventBatch in src/events/types.ts): now, leaseMs, releaseUnconfirmed, logHorizonMs,
           logTtlMs, fatigueTtlMs, fatigue = {dismissals, withinMs, backoffMs}, events = {{n, c, t, ts}, ...}

  Returns  one outcome per event, in order: accepted | duplicate | unknown_decision | lease_expired | already_shown
]]
local batch = cjson.decode(ARGV[1])
local now = batch.now
local rule = batch.fatigue
-- REC, sub and base36 come from ledger-lib.lua, prepended when the script is loaded.
local LOGREC = 17

local raw = redis.call('GET', KEYS[1]) or ''
local ledger = {}
for p = 1, #raw - REC + 1, REC do ledger[#ledger + 1] = sub(raw, p, p + REC - 1) end

-- The dedupe log, pruned of events older than any decision an event can still name.
local rawLog = redis.call('GET', KEYS[3]) or ''
local log, seen = {}, {}
local logChanged = false
for p = 1, #rawLog - LOGREC + 1, LOGREC do
  local rec = sub(rawLog, p, p + LOGREC - 1)
  if tonumber(sub(rec, 1, 8), 36) > now - batch.logHorizonMs then
    log[#log + 1] = rec
    seen[sub(rec, 10, 17) .. sub(rec, 9, 9)] = true
  else
    logChanged = true
  end
end

local function find(nonce, cmp)
  for i, rec in ipairs(ledger) do
    if sub(rec, 29, 36) == nonce and sub(rec, 11, 16) == cmp then return i end
  end
  return nil
end

local function dismissed(e)
  local field = 'd:' .. e.c
  local recent = {}
  for s in string.gmatch(redis.call('HGET', KEYS[2], field) or '', '[^,]+') do
    local ts = tonumber(s, 36)
    if ts > e.ts - rule.withinMs then recent[#recent + 1] = base36(ts) end
  end
  recent[#recent + 1] = base36(e.ts)
  if #recent >= rule.dismissals then
    local until_ = math.max(tonumber(redis.call('HGET', KEYS[2], 'b:' .. e.c) or '0'), e.ts + rule.backoffMs)
    redis.call('HSET', KEYS[2], 'b:' .. e.c, string.format('%d', until_))
    redis.call('HDEL', KEYS[2], field)
  else
    redis.call('HSET', KEYS[2], field, table.concat(recent, ','))
  end
end

-- Returns outcome, ledger changed, fatigue changed.
local function applyOne(e)
  local at = find(e.n, e.c)
  if not at then return 'unknown_decision', false, false end
  local rec = ledger[at]
  local state = sub(rec, 9, 9)
  local leaseOver = state == 'r' and tonumber(sub(rec, 1, 8), 36) + batch.leaseMs <= now
  if e.t == 's' then
    if state == 'c' then return 'accepted', false, false end
    if leaseOver and batch.releaseUnconfirmed then return 'lease_expired', false, false end
    ledger[at] = sub(rec, 1, 8) .. 'c' .. sub(rec, 10)
    return 'accepted', true, false
  elseif e.t == 'd' then
    if state == 'c' then return 'already_shown', false, false end
    if leaseOver and not batch.releaseUnconfirmed then return 'lease_expired', false, false end
    table.remove(ledger, at)
    return 'accepted', true, false
  elseif e.t == 'm' then
    if rule.dismissals == 0 then return 'accepted', false, false end
    dismissed(e)
    return 'accepted', false, true
  elseif e.t == 'x' then
    redis.call('HSET', KEYS[2], 'x:' .. e.c, '1')
    redis.call('HDEL', KEYS[2], 'd:' .. e.c)
    return 'accepted', false, true
  end
  -- clicked, converted: the dismissal streak starts over.
  return 'accepted', false, redis.call('HDEL', KEYS[2], 'd:' .. e.c) == 1
end

local outcomes = {}
local ledgerChanged, fatigueChanged = false, false
for i, e in ipairs(batch.events) do
  if seen[e.n .. e.t] then
    outcomes[i] = 'duplicate'
  else
    local outcome, l, f = applyOne(e)
    outcomes[i] = outcome
    if outcome == 'accepted' then
      seen[e.n .. e.t] = true
      log[#log + 1] = base36(now) .. e.t .. e.n
      logChanged = true
      ledgerChanged = ledgerChanged or l
      fatigueChanged = fatigueChanged or f
    end
  end
end

if ledgerChanged then
  if #ledger > 0 then
    redis.call('SET', KEYS[1], table.concat(ledger), 'KEEPTTL')
  else
    redis.call('DEL', KEYS[1])
  end
end
if fatigueChanged then redis.call('PEXPIRE', KEYS[2], batch.fatigueTtlMs) end
if logChanged then
  if #log > 0 then
    redis.call('SET', KEYS[3], table.concat(log), 'PX', batch.logTtlMs)
  else
    redis.call('DEL', KEYS[3])
  end
end
return outcomes
