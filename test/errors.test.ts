import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../src/app.js'
import type { DecisionPlan, StoreOutcome } from '../src/rules/decide/types.js'
import { MemoryStore } from '../src/memory/user-store.js'
import { AUTH, campaign, policy, testApp, testConfig, type TestApp } from './helpers/app.js'
import { expectErrorShape } from './helpers/error-shape.js'

const decideBody = { userId: 'u-errors', placement: 'home', candidates: [{ campaignId: 'a' }] }

describe('the one error shape', () => {
  let t: TestApp
  beforeAll(async () => { t = await testApp('memory', { policy: policy(), campaigns: [campaign('a')] }) })
  afterAll(async () => { await t.close() })
  const post = (payload: string | object, headers: Record<string, string> = {}) =>
    t.app.inject({ method: 'POST', url: '/v1/decide', headers: { ...AUTH, ...headers }, payload })

  it('answers an unknown route with 404 not_found', async () => {
    const res = await t.app.inject('/v2/nothing-here')
    expect(res.statusCode).toBe(404)
    expectErrorShape(res.body, 'not_found')
  })

  it('answers a known path with a method it does not accept with 404 too (not 405)', async () => {
    for (const [method, url] of [['GET', '/v1/decide'], ['DELETE', '/healthz'], ['POST', '/metrics']] as const) {
      const res = await t.app.inject({ method, url, headers: AUTH })
      expect(res.statusCode, `${method} ${url}`).toBe(404)
      expectErrorShape(res.body, 'not_found')
    }
  })

  it('answers invalid JSON with 400', async () => {
    const res = await post('{"userId": "u", ', { 'content-type': 'application/json' })
    expect(res.statusCode).toBe(400)
    expectErrorShape(res.body, 'bad_request')
  })

  it('answers an empty JSON body with 400', async () => {
    const res = await post('', { 'content-type': 'application/json' })
    expect(res.statusCode).toBe(400)
    expectErrorShape(res.body, 'bad_request')
  })

  it('answers an oversized body with 413', async () => {
    const res = await post({ ...decideBody, userId: 'x'.repeat(70_000) })
    expect(res.statusCode).toBe(413)
    expectErrorShape(res.body, 'payload_too_large')
  })

  it('answers a media type it cannot read with 415', async () => {
    const res = await post('<decide/>', { 'content-type': 'application/xml' })
    expect(res.statusCode).toBe(415)
    expectErrorShape(res.body, 'unsupported_media_type')
  })

  it.each([
    ['a missing nested field', { ...decideBody, candidates: [{}] }, '/candidates/0/campaignId'],
    ['an unknown field', { ...decideBody, colour: 'red' }, '/colour'],
    ['a wrong type', { ...decideBody, placement: 5 }, '/placement'],
    ['a missing top-level field', { placement: 'home', candidates: [{ campaignId: 'a' }] }, '/userId'],
    ['an unknown context field', { ...decideBody, context: { mood: 'happy' } }, '/context/mood']
  ])('names the field path of %s', async (_, body, path) => {
    const res = await post(body)
    expect(res.statusCode).toBe(400)
    const parsed = expectErrorShape(res.body, 'bad_request')
    expect(parsed.details).toEqual([{ path, message: expect.any(String) }])
    expect(parsed.message).toContain(path)
  })
})

/** A store with a bug (not an outage): the kind of failure that must not leak internals. */
class BrokenStore extends MemoryStore {
  override async decide (_userTag: string, _plan: DecisionPlan): Promise<StoreOutcome> {
    throw new TypeError('Cannot read properties of undefined (reading \'secret-internal-detail\')')
  }
}

describe('an unexpected failure', () => {
  it('answers 500 internal_error and says nothing of the internals', async () => {
    const app = await buildApp(testConfig(), { policy: { policy: policy(), campaigns: [campaign('a')] }, store: new BrokenStore() })
    try {
      const res = await app.inject({ method: 'POST', url: '/v1/decide', headers: AUTH, payload: decideBody })
      expect(res.statusCode).toBe(500)
      expect(expectErrorShape(res.body, 'internal_error')).toEqual({ error: 'internal_error', message: 'internal error' })
      expect(res.body).not.toContain('secret-internal-detail')
    } finally {
      await app.close()
    }
  })
})
