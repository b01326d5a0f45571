-- keys: 6
--[[
  erase.lua: removes every key of one user in one step, so consent, caps, fatigue and idempotency
  records are gone at once. A user has exactly these keys (src/redis/keys.ts): nothing is searched for.

  KEYS     the user's ledger, preferences, fatigue, dedupe log, idempotency hash and preference history (all one hash tag)
  ARGV     none
  Returns  how many of the keys existed
]]
return redis.call('DEL', unpack(KEYS))
