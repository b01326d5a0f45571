import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { campaign, policy, testApp, type TestApp } from './helpers/app.js'
import { ALLOWED_ORIGIN, DEVICE_KEY, deviceConfig, userToken } from './helpers/user-tokens.js'

const preflight = (origin: string) => ({
  method: 'OPTIONS' as const,
  url: '/v1/decide',
  headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type, x-user-token' }
})
const corsHeaders = (headers: Record<string, unknown>): string[] => Object.keys(headers).filter((h) => h.startsWith('access-control-'))

describe('CORS for the origins of keys that require end-user tokens', () => {
  let t: TestApp
  beforeAll(async () => { t = await testApp('redis', { policy: policy(), campaigns: [campaign('a')] }, { config: deviceConfig() }) })
  afterAll(async () => { await t.close() })

  it('answers the preflight of an allowed origin, allowing the token and request id headers', async () => {
    const res = await t.app.inject(preflight(ALLOWED_ORIGIN))
    expect(res.statusCode).toBe(204)
    expect(res.headers['access-control-allow-origin']).toBe(ALLOWED_ORIGIN)
    expect(String(res.headers['access-control-allow-headers'])).toMatch(/x-user-token/)
    expect(String(res.headers['access-control-allow-methods'])).toMatch(/POST/)
  })

  it('gives any other origin no CORS header at all, its preflight a 404', async () => {
    const res = await t.app.inject(preflight('https://evil.test'))
    expect(res.statusCode).toBe(404)
    expect(corsHeaders(res.headers)).toEqual([])
    const actual = await t.app.inject({ method: 'POST', url: '/v1/decide', headers: { origin: 'https://evil.test', authorization: `Bearer ${DEVICE_KEY}`, 'x-user-token': await userToken('alice') }, payload: { userId: 'alice', placement: 'home', candidates: [{ campaignId: 'a' }] } })
    expect(corsHeaders(actual.headers)).toEqual([])
  })

  it('lets an allowed page read answers and refusals, and the request id', async () => {
    const body = { userId: 'alice', placement: 'home', candidates: [{ campaignId: 'a' }] }
    const ok = await t.app.inject({ method: 'POST', url: '/v1/decide', headers: { origin: ALLOWED_ORIGIN, authorization: `Bearer ${DEVICE_KEY}`, 'x-user-token': await userToken('alice') }, payload: body })
    expect(ok.statusCode).toBe(200)
    expect(ok.headers['access-control-allow-origin']).toBe(ALLOWED_ORIGIN)
    expect(String(ok.headers['access-control-expose-headers'])).toMatch(/x-request-id/)
    const refused = await t.app.inject({ method: 'POST', url: '/v1/decide', headers: { origin: ALLOWED_ORIGIN, authorization: `Bearer ${DEVICE_KEY}` }, payload: body })
    expect(refused.statusCode).toBe(401)
    expect(refused.headers['access-control-allow-origin']).toBe(ALLOWED_ORIGIN)
  })
})

describe('without end-user tokens configured', () => {
  let t: TestApp
  beforeAll(async () => { t = await testApp('memory', { policy: policy(), campaigns: [campaign('a')] }) })
  afterAll(async () => { await t.close() })

  it('answers no preflight and sends no CORS header: browsers cannot call', async () => {
    const res = await t.app.inject(preflight(ALLOWED_ORIGIN))
    expect(res.statusCode).toBe(404)
    expect(corsHeaders(res.headers)).toEqual([])
  })
})
