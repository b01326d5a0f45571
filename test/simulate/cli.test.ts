/** `popguard simulate` as an operator runs it: the bin launcher, real files, exit codes, stderr. */
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { stringify as toYaml } from 'yaml'

const BIN = join(import.meta.dirname, '../../bin/popguard.mjs')

function run (args: string[]): Promise<{ code: number, stdout: string, stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr })
    })
  })
}

const T0 = Date.parse('2026-06-01T10:00:00Z')
function decisionLine (i: number, user: string, allowed: boolean, reason: string): string {
  return JSON.stringify({
    level: 30,
    time: T0 + i * 60_000,
    event: 'decision',
    decisionId: `${String(i).padStart(8, '0')}-0000-4000-8000-000000000000`,
    user,
    placement: 'home',
    shown: allowed ? 'spring-sale' : null,
    candidates: [{ campaignId: 'spring-sale', allowed, reason, class: 'marketing', capId: reason === 'cap_exceeded' ? 'daily' : undefined }],
    cohort: 'treated',
    degraded: false,
    replayed: false,
    at: T0 + i * 60_000,
    timezone: 'UTC',
    msg: 'decision'
  })
}

describe('popguard simulate (CLI)', () => {
  let dir: string
  const examplePolicy = async (): Promise<any> => JSON.parse(await readFile(join(import.meta.dirname, '../../examples/policy.json'), 'utf8'))

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pg-sim-'))
    const example = await examplePolicy()
    example.policy.defaultTimezone = 'UTC'
    delete example.policy.quietHours
    example.policy.cooldown = '1m'
    example.policy.caps = [{ id: 'daily', per: 'user', limit: 1, window: '1d' }]
    await writeFile(join(dir, 'candidate.yaml'), toYaml(example))
    example.policy.caps[0].limit = -1
    await writeFile(join(dir, 'bad.json'), JSON.stringify(example))
    const lines = [
      decisionLine(0, 'u1', true, 'eligible'),
      'not json at all',
      decisionLine(10, 'u1', true, 'eligible'),
      JSON.stringify({ level: 30, msg: 'server listening' }),
      JSON.stringify({ event: 'decision', user: 'u2' }),
      decisionLine(20, 'u2', true, 'eligible')
    ]
    await writeFile(join(dir, 'log.ndjson.gz'), gzipSync(lines.join('\n') + '\n'))
  })
  afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

  it('replays a gzip log, skipping malformed lines by number, and prints JSON', async () => {
    const r = await run(['simulate', '--logs', join(dir, 'log.ndjson.gz'), '--policy', join(dir, 'candidate.yaml'), '--format', 'json'])
    expect(r.stderr).toContain('2 malformed line(s) skipped')
    expect(r.stderr).toContain('line 2: not JSON')
    expect(r.stderr).toContain('line 5: a decision line needs user, decisionId, placement and candidates')
    expect(r.stderr).toMatch(/lines\/s/)
    expect(r.code).toBe(0)
    const out = JSON.parse(r.stdout)
    expect(out.lines).toMatchObject({ read: 6, decisions: 3, ignored: 1, bad: 2 })
    // A daily cap of 1: u1's second pop-up ten minutes later is suppressed.
    expect(out.recorded.marketing.shown).toBe(3)
    expect(out.candidate.marketing.shown).toBe(2)
    expect(out.candidate.suppressed).toEqual({ cap_exceeded: 1 })
    expect(out.difference.marketingShown).toBe(-1)
  })

  it('prints CSV with the recorded and candidate columns', async () => {
    const r = await run(['simulate', '--logs', join(dir, 'log.ndjson.gz'), '--policy', join(dir, 'candidate.yaml'), '--format', 'csv', '--quiet'])
    expect(r.code).toBe(0)
    const rows = r.stdout.trim().split('\n')
    expect(rows[0]).toBe('figure,recorded,candidate,difference')
    expect(rows).toContain('marketing shown,3,2,-1')
  })

  it('refuses a bad candidate policy, naming the field', async () => {
    const r = await run(['simulate', '--logs', join(dir, 'log.ndjson.gz'), '--policy', join(dir, 'bad.json')])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('bad candidate policy')
    expect(r.stderr).toContain('/policy/caps/0/limit')
    expect(r.stdout).toBe('')
  })

  it('stops on too many malformed lines, and on missing arguments', async () => {
    const [tooMany, missing, format] = await Promise.all([
      run(['simulate', '--logs', join(dir, 'log.ndjson.gz'), '--policy', join(dir, 'candidate.yaml'), '--max-bad-lines', '1', '--quiet']),
      run(['simulate', '--policy', join(dir, 'candidate.yaml')]),
      run(['simulate', '--logs', join(dir, 'log.ndjson.gz'), '--policy', join(dir, 'candidate.yaml'), '--format', 'xml'])
    ])
    expect(tooMany.code).toBe(2)
    expect(tooMany.stderr).toContain('more than 1 malformed lines (the last: line 5')
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain('--logs is required')
    expect(format.code).toBe(2)
    expect(format.stderr).toContain('--format must be one of table, json, csv')
  })
})
