--[[
  ledger-lib.lua: prepended to every script that reads or writes the impression ledger
  (src/store/lua-scripts.ts), so the record width and the timestamp encoding are defined once.
  REC     width of one ledger record (src/store/ledger-codec.ts)
  sub     string.sub
  base36  a ms timestamp as 8 base-36 digits, as the ledger and the event log store it
]]
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

