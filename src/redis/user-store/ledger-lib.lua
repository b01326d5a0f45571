--[[
  ledger-lib.lua: prepended to every script that reads or writes a user's ledger or logs
  (its header says `-- uses: ledger-lib`; src/redis/user-store/scripts.ts), after the constants it writes from the TypeScript side:
  REC, LOGREC           widths of one ledger record and one event log record (src/redis/user-store/ledger-codec.ts)
  LEDGER_MAX, LOG_MAX   records kept per user in the ledger and in the event log (src/rules/decide/limits.ts)
  REPLIES_MAX, REPLIES_KEPT   idempotency records per user, and how many a prune keeps
  BASE36_MAX            the largest timestamp 8 base-36 digits hold
  NONCE_LEN             characters of a decision's nonce (src/rules/decide/limits.ts)

  sub     string.sub
  num     a number, or `default` for anything else (nil, cjson.null, NaN, infinities, text)
  str     a string, or '' for anything else
  base36  any value as exactly 8 base-36 digits: floored and clamped to 0..BASE36_MAX, so it always ends
]]
local DIGITS = '0123456789abcdefghijklmnopqrstuvwxyz'
local sub = string.sub
-- A nonce shorter than NONCE_LEN is padded with this, so every record keeps its width.
local NONCE_PAD = string.rep('-', NONCE_LEN)
local floor = math.floor

local function num (v, default)
  if type(v) == 'number' and v == v and v > -math.huge and v < math.huge then return v end
  return default
end

local function str (v)
  if type(v) == 'string' then return v end
  return ''
end

local function base36 (n)
  n = num(n, 0)
  if n < 0 then n = 0 elseif n > BASE36_MAX then n = BASE36_MAX end
  n = floor(n)
  local s = ''
  for _ = 1, 8 do
    local d = n % 36
    s = sub(DIGITS, d + 1, d + 1) .. s
    n = (n - d) / 36
  end
  return s
end
