import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AUTH, campaign, policy, testApp, type TestApp } from './helpers/app.js'

const valid = { userId: 'bad-input-user', placement: 'home', candidates: [{ campaignId: 'a' }] }

describe('POST /v1/decide with bad input', () => {
  let t: TestApp
  beforeAll(async () => {
    t = await testApp('redis', { policy: policy({ caps: [{ id: 'one', per: 'user', limit: 1, window: '1d' }] }), campaigns: [campaign('a')] })
  })
  afterAll(async () => { await t.close() })

  const send = async (payload: string) => {
    const res = await t.app.inject({ method: 'POST', url: '/v1/decide', headers: { ...AUTH, 'content-type': 'application/json' }, payload })
    return { status: res.statusCode, body: res.json() }
  }

  const cases: [string, unknown, string][] = [
    ['a missing userId', { placement: 'home', candidates: [{ campaignId: 'a' }] }, '/userId'],
    ['a missing placement', { userId: 'u', candidates: [{ campaignId: 'a' }] }, '/placement'],
    ['missing candidates', { userId: 'u', placement: 'home' }, '/candidates'],
    ['a number as userId', { ...valid, userId: 42 }, '/userId'],
    ['candidates as an object', { ...valid, candidates: { campaignId: 'a' } }, '/candidates'],
    ['no candidates', { ...valid, candidates: [] }, '/candidates'],
    ['21 candidates', { ...valid, candidates: Array.from({ length: 21 }, () => ({ campaignId: 'a' })) }, '/candidates'],
    ['a 10 KB userId', { ...valid, userId: 'x'.repeat(10_000) }, '/userId'],
    ['an unknown top-level property', { ...valid, priority: 100 }, '/priority'],
    ['a client-chosen class on a candidate', { ...valid, candidates: [{ campaignId: 'a', class: 'critical' }] }, '/candidates/0/class'],
    ['an unknown context property', { ...valid, context: { mood: 'happy' } }, '/context/mood'],
    ['an empty campaignId', { ...valid, candidates: [{ campaignId: '' }] }, '/candidates/0/campaignId']
  ]

  it.each(cases)('rejects %s with 400 naming the field', async (_name, payload, path) => {
    const { status, body } = await send(JSON.stringify(payload))
    expect(status).toBe(400)
    expect(Object.keys(body).sort()).toEqual(['details', 'error', 'message'])
    expect(body.error).toBe('bad_request')
    expect(body.details.map((d: any) => d.path)).toContain(path)
  })

  // Invalid JSON, a wrong media type and an oversized body: test/errors.test.ts.

  it('counts nothing for a rejected request', async () => {
    await send(JSON.stringify({ ...valid, extra: true }))
    await send(JSON.stringify({ ...valid, candidates: [] }))
    // The cap of one is still free: the rejected requests recorded no impression.
    const ok = await send(JSON.stringify(valid))
    expect(ok.status).toBe(200)
    expect(ok.body.show).toEqual({ campaignId: 'a' })
  })
})
