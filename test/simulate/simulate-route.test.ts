/** POST /v1/policy/simulate: admin only, an upload or the configured log file, 413 and 422 in the one error shape. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { campaign, policy, TestClock, testApp, testConfig, type TestApp } from '../helpers/app.js'
import { expectErrorShape } from '../helpers/error-shape.js'

const ADMIN = { authorization: 'Bearer dev-admin-key' }
const CLIENT = { authorization: 'Bearer dev-client-key' }
const REPORTS = { authorization: 'Bearer dev-reports-key' }
const T0 = Date.parse('2026-06-01T10:00:00Z')

function line (minute: number, user: string, allowed: boolean, reason = 'eligible'): string {
  return JSON.stringify({
    event: 'decision',
    decisionId: `${String(minute).padStart(8, '0')}-0000-4000-8000-000000000000`,
    user,
    placement: 'home',
    shown: allowed ? 'a' : null,
    candidates: [{ campaignId: 'a', allowed, reason, class: 'marketing' }],
    cohort: 'treated',
    degraded: false,
    replayed: false,
    at: T0 + minute * 60_000,
    timezone: 'UTC'
  })
}

const inForce = { policy: policy({ caps: [{ id: 'daily', per: 'user', limit: 5, window: '1d' }] }), campaigns: [campaign('a')] }
const stricter = { policy: policy({ caps: [{ id: 'daily', per: 'user', limit: 1, window: '1d' }] }), campaigns: [campaign('a')] }
// u1 shown four times two hours apart, u2 once.
const LOG = [line(0, 'u1', true), line(120, 'u1', true), line(240, 'u1', true), line(360, 'u1', true), line(30, 'u2', true)].join('\n') + '\n'

describe('POST /v1/policy/simulate', () => {
  let t: TestApp
  let withFile: TestApp
  let dir: string
  const clock = new TestClock(T0 + 7 * 3_600_000)

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pg-sim-route-'))
    await writeFile(join(dir, 'decisions.ndjson'), LOG + '{"level":30,"msg":"other"}\n')
    const simulate = testConfig().simulate
    t = await testApp('redis', inForce, { config: { simulate: { ...simulate, maxUploadBytes: 4096 } } })
    withFile = await testApp('redis', inForce, { clock, config: { simulate: { ...simulate, logFile: join(dir, 'decisions.ndjson') } } })
  })
  afterAll(async () => {
    await t?.close()
    await withFile?.close()
    await rm(dir, { recursive: true, force: true })
  })

  const post = (app: TestApp, payload: unknown, headers: Record<string, string> = ADMIN) =>
    app.app.inject({ method: 'POST', url: '/v1/policy/simulate', headers, payload: payload as object })

  it('needs an admin key', async () => {
    const none = await t.app.inject({ method: 'POST', url: '/v1/policy/simulate', payload: { candidate: stricter, logs: LOG } })
    expect(none.statusCode).toBe(401)
    expectErrorShape(none.body, 'unauthorized')
    for (const headers of [CLIENT, REPORTS]) {
      const res = await post(t, { candidate: stricter, logs: LOG }, headers)
      expect(res.statusCode).toBe(403)
      expectErrorShape(res.body, 'forbidden')
    }
  })

  it('replays an upload under the candidate', async () => {
    const res = await post(t, { candidate: stricter, logs: LOG })
    expect(res.statusCode).toBe(200)
    const body = res.json()
    expect(body).toMatchObject({ source: 'upload', from: null, truncated: null })
    expect(body.recorded.marketing).toEqual({ requested: 5, shown: 5, reduction: 0 })
    // A daily cap of one: u1's three later pop-ups go.
    expect(body.candidate.marketing).toEqual({ requested: 5, shown: 2, reduction: 0.6 })
    expect(body.candidate.suppressed).toEqual({ cap_exceeded: 3 })
    expect(body.candidate.perUserDay).toMatchObject({ userDays: 2, max: 1 })
    expect(body.recorded.perUserDay).toMatchObject({ userDays: 2, max: 4 })
  })

  it('tries a penalty given with the candidate', async () => {
    const res = await post(t, { candidate: { ...inForce, penalties: { a: { action: 'limit', reason: 'complaints', until: null, caps: [{ id: 'pen', per: 'campaign', limit: 2, window: '7d' }] } } }, logs: LOG })
    expect(res.statusCode).toBe(200)
    // u1's third and fourth pop-ups of `a` exceed the penalty's 2 a week.
    expect(res.json().candidate.suppressed).toEqual({ cap_exceeded: 2 })
    const bad = await post(t, { candidate: { ...inForce, penalties: { a: { action: 'suspend', reason: 'x', until: null, caps: [{ id: 'pen', per: 'campaign', limit: 2, window: '7d' }] } } }, logs: LOG })
    expect(bad.statusCode).toBe(422)
    expect(expectErrorShape(bad.body, 'unprocessable_entity').details).toEqual([{ path: '/candidate/penalties/a/caps', message: 'a suspension takes no caps' }])
  })

  it('answers 413 beyond the upload limit', async () => {
    const res = await post(t, { candidate: stricter, logs: LOG.repeat(20) })
    expect(res.statusCode).toBe(413)
    expectErrorShape(res.body, 'payload_too_large')
  })

  it('answers 422 for a candidate that is not a valid policy, naming the field', async () => {
    const bad = { ...stricter, policy: { ...stricter.policy, caps: [{ id: 'daily', per: 'user', limit: -1, window: '1d' }] } }
    const res = await post(t, { candidate: bad, logs: LOG })
    expect(res.statusCode).toBe(422)
    const body = expectErrorShape(res.body, 'unprocessable_entity')
    expect(body.details).toEqual(expect.arrayContaining([expect.objectContaining({ path: '/candidate/policy/caps/0/limit' })]))
    const notAPolicy = await post(t, { candidate: 'caps: 1', logs: LOG })
    expect(notAPolicy.statusCode).toBe(422)
  })

  it('answers 422 when the upload is not a decision log', async () => {
    const res = await post(t, { candidate: stricter, logs: 'x\n'.repeat(1001) })
    expect(res.statusCode).toBe(422)
    expect(expectErrorShape(res.body, 'unprocessable_entity').message).toContain('malformed lines')
  })

  it('answers 400 without logs when no log file is configured', async () => {
    const res = await post(t, { candidate: stricter })
    expect(res.statusCode).toBe(400)
    expect(expectErrorShape(res.body, 'bad_request').message).toContain('POPGUARD_SIMULATE_LOG_FILE')
  })

  it('reads the configured log file, the last hours only', async () => {
    // Now is T0 + 7 h: the last 3 hours hold the decisions at 4 h and 6 h (u1's third and fourth).
    const res = await post(withFile, { candidate: stricter, hours: 3 })
    expect(res.statusCode).toBe(200)
    const body = res.json()
    expect(body).toMatchObject({ source: 'file', from: new Date(T0 + 4 * 3_600_000).toISOString(), truncated: null })
    expect(body.lines).toMatchObject({ read: 6, decisions: 2, outsideWindow: 3, ignored: 1 })
    expect(body.candidate.marketing).toEqual({ requested: 2, shown: 1, reduction: 0.5 })
    expect(body.assumptions.join(' ')).toContain('Consent')
  })
})
