import { Writable } from 'node:stream'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { committedSpec, operations } from './helpers/openapi.js'
import { AUTH, CLIENT_KEY, campaign, policy, testApp, type TestApp } from './helpers/app.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const USER = 'carol.request-id@example.com'
const PREFERENCES_AUTH = { authorization: 'Bearer dev-preferences-key' }

describe('request ids and access lines', () => {
  const lines: any[] = []
  let t: TestApp
  beforeAll(async () => {
    const sink = new Writable({ write (chunk, _enc, done) { lines.push(JSON.parse(String(chunk))); done() } })
    t = await testApp('redis', { policy: policy(), campaigns: [campaign('a')] }, { logger: pino({ level: 'info' }, sink) })
  })
  afterAll(async () => { await t.close() })
  const byReqId = (id: string): any[] => lines.filter((l) => l.reqId === id)

  it('echoes a safe X-Request-Id and puts it on the decision line and the access line', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/decide',
      headers: { ...AUTH, 'x-request-id': 'web-7f3a:retry.1' },
      payload: { userId: USER, placement: 'home', candidates: [{ campaignId: 'a' }] }
    })
    expect(res.statusCode).toBe(200)
    expect(res.headers['x-request-id']).toBe('web-7f3a:retry.1')
    const mine = byReqId('web-7f3a:retry.1')
    expect(mine.find((l) => l.event === 'decision')).toMatchObject({ decisionId: res.json().decisionId })
    const access = mine.filter((l) => l.event === 'access')
    expect(access).toHaveLength(1)
    expect(access[0]).toMatchObject({ method: 'POST', route: '/v1/decide', status: 200 })
    expect(access[0].responseTime).toBeGreaterThan(0)
  })

  it('generates an id when none is given, or when the given one is unsafe, and echoes it', async () => {
    for (const given of [undefined, 'x'.repeat(129), 'evil\u00e9id', 'a b', '']) {
      const res = await t.app.inject({ url: '/v1/users/u1/preferences', headers: { ...PREFERENCES_AUTH, ...(given === undefined ? {} : { 'x-request-id': given }) } })
      const id = String(res.headers['x-request-id'])
      expect(id, String(given)).toMatch(UUID)
      expect(byReqId(id).filter((l) => l.event === 'access')).toHaveLength(1)
    }
  })

  it('echoes the id on errors before the route runs (401)', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/v1/decide', headers: { 'x-request-id': 'no-key-1' }, payload: {} })
    expect(res.statusCode).toBe(401)
    expect(res.headers['x-request-id']).toBe('no-key-1')
    expect(byReqId('no-key-1').find((l) => l.event === 'access')).toMatchObject({ status: 401, route: '/v1/decide' })
  })

  it('logs route patterns, never the raw URL, user id or key', async () => {
    const path = `/v1/users/${encodeURIComponent(USER)}/preferences`
    const read = await t.app.inject({ url: path, headers: { ...PREFERENCES_AUTH, 'x-request-id': 'prefs-1' } })
    expect(read.statusCode).toBe(200)
    expect(byReqId('prefs-1').find((l) => l.event === 'access')).toMatchObject({ method: 'GET', route: '/v1/users/:userId/preferences', status: 200 })
    const unknown = await t.app.inject({ url: `/v2/${encodeURIComponent(USER)}`, headers: { 'x-request-id': 'lost-1' } })
    expect(unknown.statusCode).toBe(404)
    expect(byReqId('lost-1').find((l) => l.event === 'access')).toMatchObject({ route: 'unmatched', status: 404 })
    const everything = JSON.stringify(lines)
    for (const secret of [USER, encodeURIComponent(USER), CLIENT_KEY, 'dev-preferences-key']) expect(everything).not.toContain(secret)
  })

  it('leaves no access line for health and metrics probes', async () => {
    await t.app.inject({ url: '/healthz', headers: { 'x-request-id': 'probe-1' } })
    await t.app.inject({ url: '/metrics', headers: { 'x-request-id': 'probe-2' } })
    expect([...byReqId('probe-1'), ...byReqId('probe-2')]).toEqual([])
  })

  it('is declared on every answer of every operation in the contract, as the answers carry it', async () => {
    const missing = operations(committedSpec()).flatMap((op) => Object.entries(op.responses)
      .filter(([, r]) => (r as { headers?: Record<string, unknown> }).headers?.['X-Request-Id'] === undefined)
      .map(([status]) => `${op.method} ${op.path} ${status}`))
    expect(missing).toEqual([])
    const unauthorized = await t.app.inject({ method: 'GET', url: '/v1/policy' })
    expect(unauthorized.statusCode).toBe(401)
    expect(unauthorized.headers['x-request-id']).toMatch(UUID)
  })
})
