-- keys: 3
-- uses: ledger-lib
--[[
  events.lua: one user's client events (shown, discarded, dismissed, ...) applied atomically, in order.
  The twin of src/rules/events/apply.ts; test/conformance holds both to the same cases.

  KEYS[1]  impression ledger (see decide.lua): `shown` confirms a record (r -> c), `discarded` removes it
  KEYS[2]  fatigue hash: b:<code>=<backoff until ms>, x:<code>=1 (complained), d:<code>=<ts36>,... (recent dismissals)
  KEYS[3]  dedupe log: a string of LOGREC-byte records ts(8, base36 ms) type(1) nonce(8), one per applied event,
           at most LOG_MAX (the oldest are forgotten first)
  ARGV[1]  the batch as JSON (EventBatch in src/rules/events/types.ts): now, leaseMs, releaseUnconfirmed, logHorizonMs,
           logTtlMs, fatigueTtlMs, fatigue = {dismissals, withinMs, backoffMs}, dayStartMs, dayEndMs (the report day
           of now), events = {{n, c, t, ts}, ...}

  Returns  {outcomes, dayShows}, one entry per event, in order:
           outcomes  accepted | duplicate | unknown_decision | lease_expired | already_shown
           dayShows  k for an accepted `shown` of a marketing record when now is in the report day and it is the
                     user's k-th accepted marketing `shown` received in it (counted from the dedupe log); else 0
  Every loop runs over a bounded list: the batch (at most 500 events, src/schemas/events.ts), the ledger
  (LEDGER_MAX), the log (LOG_MAX), a streak of dismissals (the policy's count).
]]
local batch = cjson.decode(ARGV[1])
local now = num(batch.now, 0)
local leaseMs, releaseUnconfirmed = num(batch.leaseMs, 0), batch.releaseUnconfirmed == true
local logHorizonMs, logTtlMs, fatigueTtlMs = num(batch.logHorizonMs, 0), num(batch.logTtlMs, 1), num(batch.fatigueTtlMs, 1)
local rule = type(batch.fatigue) == 'table' and batch.fatigue or {}
local dismissals, withinMs, backoffMs = num(rule.dismissals, 0), num(rule.withinMs, 0), num(rule.backoffMs, 0)
local dayStart, dayEnd = num(batch.dayStartMs, 0), num(batch.dayEndMs, 0)
local events = {}
for i, e in ipairs(type(batch.events) == 'table' and batch.events or {}) do
  if type(e) ~= 'table' then e = {} end
  events[i] = {n = str(e.n), c = str(e.c), t = str(e.t), ts = num(e.ts, now)}
end

-- The ledger, and where each (nonce, campaign) record is. A discarded record becomes false until the write.
local raw = redis.call('GET', KEYS[1]) or ''
local ledger, at, marketing = {}, {}, {}
for p = 1, #raw - REC + 1, REC do
  local rec = sub(raw, p, p + REC - 1)
  ledger[#ledger + 1] = rec
  local k = sub(rec, 29, 36) .. sub(rec, 11, 16)
  if not at[k] then at[k] = #ledger end
  if sub(rec, 10, 10) == 'm' then marketing[sub(rec, 29, 36)] = true end
end
local function inDay(ts) return ts >= dayStart and ts < dayEnd end

-- The dedupe log, pruned of events older than any decision an event can still name.
local rawLog = redis.call('GET', KEYS[3]) or ''
-- Also the accepted marketing `shown` events it holds for the report day.
local log, seen = {}, {}
local logChanged = false
local shownInDay = 0
for p = 1, #rawLog - LOGREC + 1, LOGREC do
  local rec = sub(rawLog, p, p + LOGREC - 1)
  local ts = tonumber(sub(rec, 1, 8), 36) or 0
  if ts > now - logHorizonMs then
    log[#log + 1] = rec
    seen[sub(rec, 10, 17) .. sub(rec, 9, 9)] = true
    if sub(rec, 9, 9) == 's' and inDay(ts) and marketing[sub(rec, 10, 17)] then shownInDay = shownInDay + 1 end
  else
    logChanged = true
  end
end

local function dismissed(e)
  local field = 'd:' .. e.c
  local recent = {}
  for s in string.gmatch(redis.call('HGET', KEYS[2], field) or '', '[^,]+') do
    local ts = tonumber(s, 36)
    if ts and ts > e.ts - withinMs then recent[#recent + 1] = base36(ts) end
  end
  recent[#recent + 1] = base36(e.ts)
  if #recent >= dismissals then
    local until_ = math.max(tonumber(redis.call('HGET', KEYS[2], 'b:' .. e.c) or '') or 0, e.ts + backoffMs)
    redis.call('HSET', KEYS[2], 'b:' .. e.c, string.format('%d', until_))
    redis.call('HDEL', KEYS[2], field)
  else
    redis.call('HSET', KEYS[2], field, table.concat(recent, ','))
  end
end

-- Returns outcome, ledger changed, fatigue changed.
local function applyOne(e)
  local i = at[e.n .. e.c]
  local rec = i and ledger[i]
  if not rec then return 'unknown_decision', false, false end
  local state = sub(rec, 9, 9)
  local leaseOver = state == 'r' and (tonumber(sub(rec, 1, 8), 36) or 0) + leaseMs <= now
  if e.t == 's' then
    if state == 'c' then return 'accepted', false, false end
    if leaseOver and releaseUnconfirmed then return 'lease_expired', false, false end
    ledger[i] = sub(rec, 1, 8) .. 'c' .. sub(rec, 10)
    return 'accepted', true, false
  elseif e.t == 'd' then
    if state == 'c' then return 'already_shown', false, false end
    if leaseOver and not releaseUnconfirmed then return 'lease_expired', false, false end
    ledger[i] = false
    return 'accepted', true, false
  elseif e.t == 'm' then
    if dismissals == 0 then return 'accepted', false, false end
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

local outcomes, dayShows = {}, {}
local ledgerChanged, fatigueChanged = false, false
for i, e in ipairs(events) do
  dayShows[i] = 0
  if seen[e.n .. e.t] then
    outcomes[i] = 'duplicate'
  else
    local outcome, l, f = applyOne(e)
    outcomes[i] = outcome
    if outcome == 'accepted' then
      local shown = e.t == 's' and ledger[at[e.n .. e.c]]
      if shown and sub(shown, 10, 10) == 'm' and inDay(now) then
        shownInDay = shownInDay + 1
        dayShows[i] = shownInDay
      end
      seen[e.n .. e.t] = true
      log[#log + 1] = base36(now) .. sub(e.t .. ' ', 1, 1) .. sub(e.n .. NONCE_PAD, 1, NONCE_LEN)
      logChanged = true
      ledgerChanged = ledgerChanged or l
      fatigueChanged = fatigueChanged or f
    end
  end
end

if ledgerChanged then
  local kept = {}
  for _, rec in ipairs(ledger) do if rec then kept[#kept + 1] = rec end end
  if #kept > 0 then
    redis.call('SET', KEYS[1], table.concat(kept), 'KEEPTTL')
  else
    redis.call('DEL', KEYS[1])
  end
end
if fatigueChanged then redis.call('PEXPIRE', KEYS[2], fatigueTtlMs) end
if logChanged then
  if #log > LOG_MAX then log = {unpack(log, #log - LOG_MAX + 1)} end
  if #log > 0 then
    redis.call('SET', KEYS[3], table.concat(log), 'PX', logTtlMs)
  else
    redis.call('DEL', KEYS[3])
  end
end
return {outcomes, dayShows}
