import { readFileSync } from 'node:fs'
import { BASE36_MAX, MAX_EVENT_LOG_RECORDS, MAX_LEDGER_RECORDS, MAX_REPLIES, REPLIES_KEPT } from '../rules/decide/limits.js'
import { EVENT_LOG_RECORD_LENGTH, RECORD_LENGTH } from './user-store/ledger-codec.js'

const read = (name: string): string => readFileSync(new URL(`./${name}`, import.meta.url), 'utf8')

/** The constants the scripts share with the TypeScript side, defined there once (src/rules/decide/limits.ts, ledger-codec.ts). */
const CONSTANTS = [
  ['REC', RECORD_LENGTH],
  ['LOGREC', EVENT_LOG_RECORD_LENGTH],
  ['LEDGER_MAX', MAX_LEDGER_RECORDS],
  ['LOG_MAX', MAX_EVENT_LOG_RECORDS],
  ['REPLIES_MAX', MAX_REPLIES],
  ['REPLIES_KEPT', REPLIES_KEPT],
  ['BASE36_MAX', BASE36_MAX]
] as const

/** The constants and ledger-lib.lua: what every script that reads a user's ledger or logs runs after. */
export const LEDGER_PRELUDE = CONSTANTS.map(([name, value]) => `local ${name} = ${value}\n`).join('') + read('user-store/ledger-lib.lua')

/** A script's source; scripts that touch the impression ledger get LEDGER_PRELUDE in front. */
export function luaScript (name: string, opts: { ledgerLib?: boolean } = {}): string {
  return (opts.ledgerLib === true ? LEDGER_PRELUDE : '') + read(name)
}
