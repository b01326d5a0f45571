import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest'
import { defineScripts, loadScript, parseScript, ScriptHeaderError } from '../src/redis/scripts.js'

const dir = mkdtempSync(join(tmpdir(), 'popguard-scripts-'))
function scriptFile (name: string, source: string): URL {
  const path = join(dir, name)
  writeFileSync(path, source)
  return pathToFileURL(path)
}

describe('the script loader', () => {
  it('reads the key count and the preludes from the header', () => {
    const s = parseScript('t.lua', '-- keys: 2\n-- uses: a, b\nreturn {KEYS[1], KEYS[2]}', { a: 'local A = 1\n', b: 'local B = 2\n' })
    expect(s.numberOfKeys).toBe(2)
    expect(s.uses).toEqual(['a', 'b'])
    expect(s.lua).toBe('local A = 1\nlocal B = 2\n-- keys: 2\n-- uses: a, b\nreturn {KEYS[1], KEYS[2]}')
    expect(parseScript('v.lua', '-- keys: varies\nreturn KEYS[1]').numberOfKeys).toBeUndefined()
  })

  it.each([
    ['no header at all', 'return KEYS[1]', /no "-- keys/],
    ['a header below the code', 'return 1\n-- keys: 1', /no "-- keys/],
    ['a count that is no count', '-- keys: three\nreturn KEYS[1]', /neither a count nor "varies"/],
    ['fewer keys than the body reads', '-- keys: 1\nreturn {KEYS[1], KEYS[2]}', /reads KEYS\[2\] but its header says "-- keys: 1"/],
    ['more keys than the body reads', '-- keys: 3\nreturn {KEYS[1], KEYS[2]}', /says "-- keys: 3" but it reads KEYS\[2\] at most/],
    ['an unknown header line', '-- keys: 1\n-- key: 1\nreturn KEYS[1]', /unknown header line "-- key: 1"/],
    ['a prelude its adapter does not give', '-- keys: 1\n-- uses: ledger-lib\nreturn KEYS[1]', /uses ledger-lib, which its adapter does not provide/]
  ])('refuses a script with %s, when it is loaded (at start)', (_what, source, message) => {
    const url = scriptFile('bad.lua', source)
    expect(() => loadScript(url)).toThrow(ScriptHeaderError)
    expect(() => loadScript(url)).toThrow(message)
  })

  it('accepts every script of the adapters (each .lua file but the preludes)', () => {
    const root = new URL('../src/redis/', import.meta.url)
    const files = readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.lua') && !f.endsWith('-lib.lua'))
    expect(files.length).toBeGreaterThanOrEqual(5)
    for (const file of files) {
      const script = loadScript(new URL(file, root), { 'ledger-lib': '' })
      expect(script.numberOfKeys === undefined || script.numberOfKeys > 0, file).toBe(true)
    }
  })
})

describe('defineScripts', () => {
  let redis: Redis
  beforeAll(() => { redis = new Redis(inject('redisUrl')) })
  afterAll(() => { redis.disconnect() })

  it('runs a script by its header key count, and again after Redis forgot it (NOSCRIPT)', async () => {
    const echo = loadScript(scriptFile('echo.lua', '-- keys: 2\nreturn {KEYS[1], KEYS[2], ARGV[1]}'))
    const counted = loadScript(scriptFile('counted.lua', '-- keys: varies\nreturn {#KEYS, ARGV[1]}'))
    defineScripts(redis, { pgTestEcho: echo, pgTestCounted: counted })
    const client = redis as unknown as {
      pgTestEcho: (a: string, b: string, c: string) => Promise<string[]>
      pgTestCounted: (n: number, ...rest: string[]) => Promise<[number, string]>
    }
    expect(await client.pgTestEcho('{t}a', '{t}b', 'x')).toEqual(['{t}a', '{t}b', 'x'])
    expect(await client.pgTestCounted(3, '{t}a', '{t}b', '{t}c', 'y')).toEqual([3, 'y'])
    await redis.script('FLUSH')
    expect(await client.pgTestEcho('{t}c', '{t}d', 'z')).toEqual(['{t}c', '{t}d', 'z'])
  })
})
