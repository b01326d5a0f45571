--[[
  erase.lua: removes a user's known state in one step, so consent, caps and fatigue are gone at once.
  The store then scans the user's hash tag for what remains (idempotency records, whose names cannot be known).

  KEYS     every known key of one user: ledger, preferences, fatigue, dedupe log (all one hash tag)
  ARGV     none
  Returns  how many of the keys existed
]]
return redis.call('DEL', unpack(KEYS))
