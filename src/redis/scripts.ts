import { readFileSync } from 'node:fs'
import { basename } from 'node:path'
import type { RedisClient } from './connection.js'

/**
 * The one way a Redis adapter loads its Lua scripts. Each `.lua` file sits beside the adapter
 * that runs it and starts with a header that says how it is called, so nothing about a script
 * is written apart from it:
 *
 *   -- keys: 4              how many of the arguments are keys (`varies`: the caller passes the count first)
 *   -- uses: ledger-lib     preludes put in front of the source, given by the adapter that owns them
 *
 * A file without a valid header, naming an unknown prelude, or whose body reads a KEYS index the
 * header does not declare fails at start, not at its first call.
 */
export interface LuaScript {
  /** The file's name, for messages. */
  file: string
  /** KEYS given to every call; undefined when the caller passes the count first (`-- keys: varies`). */
  numberOfKeys: number | undefined
  /** The preludes the header names, in order. */
  uses: string[]
  /** The source run by Redis: the preludes, then the file. */
  lua: string
}

export class ScriptHeaderError extends Error {
  override name = 'ScriptHeaderError'
}

const HEADER_LINE = /^--\s*([a-z-]+):\s*(.*?)\s*$/

/** Reads the header of one script's source; throws ScriptHeaderError when it is missing or wrong. */
export function parseScript (file: string, source: string, preludes: Readonly<Record<string, string>> = {}): LuaScript {
  const fail = (why: string): never => { throw new ScriptHeaderError(`${file}: ${why}`) }
  let keys: string | undefined
  let uses: string[] = []
  for (const line of source.split('\n')) {
    const m = HEADER_LINE.exec(line)
    if (m === null) break
    const [, name, value] = m as unknown as [string, string, string]
    if (name === 'keys') keys = value
    else if (name === 'uses') uses = value.split(',').map((s) => s.trim()).filter((s) => s !== '')
    else fail(`unknown header line "${line}" (expected "-- keys: <n|varies>" and optionally "-- uses: <prelude>, ...")`)
  }
  if (keys === undefined) return fail('no "-- keys: <n|varies>" line at the top of the file')
  let numberOfKeys: number | undefined
  if (keys !== 'varies') {
    if (!/^\d+$/.test(keys)) fail(`"-- keys: ${keys}" is neither a count nor "varies"`)
    numberOfKeys = Number(keys)
    // The body may not read a key the header does not declare, nor declare keys it never reads.
    const indices = [...source.matchAll(/KEYS\[(\d+)\]/g)].map((k) => Number(k[1]))
    const highest = Math.max(0, ...indices)
    if (highest > numberOfKeys) fail(`reads KEYS[${highest}] but its header says "-- keys: ${numberOfKeys}"`)
    const readsAll = /unpack\(KEYS\)|#KEYS/.test(source)
    if (!readsAll && highest < numberOfKeys) fail(`its header says "-- keys: ${numberOfKeys}" but it reads KEYS[${highest}] at most`)
  }
  const missing = uses.filter((u) => preludes[u] === undefined)
  if (missing.length > 0) fail(`uses ${missing.join(', ')}, which its adapter does not provide`)
  return { file, numberOfKeys, uses, lua: uses.map((u) => preludes[u]).join('') + source }
}

/** One script file, read once (at start); `url` is resolved beside the adapter: new URL('./x.lua', import.meta.url). */
export function loadScript (url: URL, preludes: Readonly<Record<string, string>> = {}): LuaScript {
  return parseScript(basename(url.pathname), readFileSync(url, 'utf8'), preludes)
}

/**
 * Defines each script as a command of the client (ioredis `defineCommand`): EVALSHA, and EVAL
 * once after a NOSCRIPT (a restarted or failed-over Redis); on a Cluster, sent to the slot of its keys.
 */
export function defineScripts (client: RedisClient, scripts: Readonly<Record<string, LuaScript>>): void {
  for (const [command, script] of Object.entries(scripts)) {
    client.defineCommand(command, script.numberOfKeys === undefined ? { lua: script.lua } : { numberOfKeys: script.numberOfKeys, lua: script.lua })
  }
}
