import { readFileSync } from 'node:fs'
import { BASE36_MAX, MAX_EVENT_LOG_RECORDS, MAX_LEDGER_RECORDS, MAX_REPLIES, NONCE_LENGTH, REPLIES_KEPT } from '../../rules/decide/limits.js'
import { loadScript } from '../scripts.js'
import { EVENT_LOG_RECORD_LENGTH, RECORD_LENGTH } from './ledger-codec.js'

/** The constants the scripts share with the TypeScript side, defined there once (src/rules/decide/limits.ts, ledger-codec.ts). */
const CONSTANTS = [
  ['REC', RECORD_LENGTH],
  ['LOGREC', EVENT_LOG_RECORD_LENGTH],
  ['LEDGER_MAX', MAX_LEDGER_RECORDS],
  ['LOG_MAX', MAX_EVENT_LOG_RECORDS],
  ['REPLIES_MAX', MAX_REPLIES],
  ['REPLIES_KEPT', REPLIES_KEPT],
  ['BASE36_MAX', BASE36_MAX],
  ['NONCE_LEN', NONCE_LENGTH]
] as const

/** The constants and ledger-lib.lua: the prelude `ledger-lib` of every script that reads a user's ledger or logs. */
export const LEDGER_PRELUDE = CONSTANTS.map(([name, value]) => `local ${name} = ${value}\n`).join('') +
  readFileSync(new URL('./ledger-lib.lua', import.meta.url), 'utf8')

const PRELUDES = { 'ledger-lib': LEDGER_PRELUDE }
const here = (file: string): URL => new URL(`./${file}`, import.meta.url)

/** The user store's scripts, by the command name each is defined as. */
export const USER_SCRIPTS = {
  pgDecide: loadScript(here('decide.lua'), PRELUDES),
  pgEvents: loadScript(here('events.lua'), PRELUDES),
  pgErase: loadScript(here('erase.lua'), PRELUDES)
}
