import { readFileSync } from 'node:fs'

const read = (name: string): string => readFileSync(new URL(`./lua/${name}`, import.meta.url), 'utf8')
const LEDGER_LIB = read('ledger-lib.lua')

/** A script's source; scripts that touch the impression ledger get ledger-lib.lua in front. */
export function luaScript (name: string, opts: { ledgerLib?: boolean } = {}): string {
  return (opts.ledgerLib === true ? LEDGER_LIB : '') + read(name)
}
