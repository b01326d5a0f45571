-- keys: 6
--[[
  gov-commit.lua: one governance change (policy, campaign or penalty), written atomically with
  its audit entry and, for the policy, its history entry; bumps the revision and publishes it.
  Every write may carry an expectation (compare-and-set on the stored raw JSON), so two
  instances can never both turn version n into n + 1. A restore (after Redis lost its data)
  also expects the revision it read, empties the three records first and raises the revision
  to at least the one the restoring instance had loaded, so it never goes backwards.

  KEYS[1]  revision counter (string)
  KEYS[2]  policy hash (field `current`)
  KEYS[3]  campaigns hash (field = campaign id)
  KEYS[4]  penalties hash (field = campaign id)
  KEYS[5]  audit list, newest first
  KEYS[6]  policy history list, newest first
  ARGV[1]  JSON {w = {{t = 2|3|4 (KEYS index), f = field, x = 1 when e must match, e = expected raw JSON or '' for absent,
                      v = new raw JSON or '' to delete}, ...},
                 a = {audit entry JSON, ...}, h = history entry JSON or '', ac = audit cap, hc = history cap, c = channel,
                 xr = expected revision or -1 for any, r = 1 to empty KEYS[2..4] before the writes else 0,
                 m = the lowest revision to bump from (0: no floor)}

  Returns  the new revision, or -1 when an expectation failed (nothing written).
  No TTLs: these keys are the configuration itself; the two lists are capped by length instead.
]]
local change = cjson.decode(ARGV[1])
local expected_revision = change.xr
local replace = change.r == 1
local revision_floor = change.m

local current_revision = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
if expected_revision >= 0 and current_revision ~= expected_revision then return -1 end
for _, w in ipairs(change.w) do
  if w.x == 1 then
    local current = redis.call('HGET', KEYS[w.t], w.f) or ''
    if current ~= w.e then return -1 end
  end
end

if replace then redis.call('DEL', KEYS[2], KEYS[3], KEYS[4]) end
for _, w in ipairs(change.w) do
  if w.v == '' then
    redis.call('HDEL', KEYS[w.t], w.f)
  else
    redis.call('HSET', KEYS[w.t], w.f, w.v)
  end
end

for _, entry in ipairs(change.a) do
  redis.call('LPUSH', KEYS[5], entry)
end
redis.call('LTRIM', KEYS[5], 0, change.ac - 1)
if change.h ~= '' then
  redis.call('LPUSH', KEYS[6], change.h)
  redis.call('LTRIM', KEYS[6], 0, change.hc - 1)
end

if current_revision < revision_floor then redis.call('SET', KEYS[1], revision_floor) end
local revision = redis.call('INCR', KEYS[1])
redis.call('PUBLISH', change.c, revision)
return revision
