-- keys: varies
--[[
  agg-flush.lua: one flush of report counts from one instance, applied at most once.
  Every key shares the hash tag {agg}, so the whole flush is one atomic step, also in Redis Cluster.

  KEYS[1]        marker of this flush (string): present means the flush was applied already
  KEYS[2..1+H]   count hashes (c:<day>, d:<day>, e:<day>)
  KEYS[2+H..]    HyperLogLogs of user pseudonyms (u:<day>:<cohort>)
  ARGV[1]        H, the number of count hashes
  ARGV[2]        retention of the count keys, ms (refreshed on every write)
  ARGV[3]        life of the marker, ms (longer than any retry of the same flush)
  ARGV[4]        JSON {h = {{field, n, field, n, ...} per hash}, u = {{member, ...} per HyperLogLog}}

  Returns        1 when applied, 0 when this flush id was applied before (nothing done)
]]
local hashes = tonumber(ARGV[1])
local retention = tonumber(ARGV[2])
local markerLife = tonumber(ARGV[3])
local body = cjson.decode(ARGV[4])

if not redis.call('SET', KEYS[1], '1', 'NX', 'PX', markerLife) then return 0 end

for i = 1, hashes do
  local key = KEYS[1 + i]
  local pairs_ = body.h[i]
  for j = 1, #pairs_, 2 do
    redis.call('HINCRBY', key, pairs_[j], pairs_[j + 1])
  end
  redis.call('PEXPIRE', key, retention)
end

local CHUNK = 500
for i = 1, #KEYS - 1 - hashes do
  local key = KEYS[1 + hashes + i]
  local members = body.u[i]
  for j = 1, #members, CHUNK do
    redis.call('PFADD', key, unpack(members, j, math.min(j + CHUNK - 1, #members)))
  end
  redis.call('PEXPIRE', key, retention)
end
return 1
