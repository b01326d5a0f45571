// The TypeScript client against a real popguard (listening on a port, Redis store).
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { campaign, CLIENT_KEY, policy, testApp, type TestApp } from '../../../test/helpers/app.js'
import { freePort } from '../../../test/helpers/redis-server.js'
import { DEVICE_KEY, deviceConfig, userToken } from '../../../test/helpers/user-tokens.js'
import { PopguardClient, type DecideResponse, type PopguardClientOptions } from '../src/index.js'
import { proxy } from './helpers.js'

let t: TestApp
let base: string
const counted: { type: string, outcome: string }[] = []
const clients: PopguardClient[] = []

beforeAll(async () => {
  t = await testApp('redis', {
    policy: policy({ caps: [{ id: 'two-a-day', per: 'user', limit: 2, window: '1d' }] }),
    campaigns: [campaign('spring-sale', { priority: 60 }), campaign('quick-loan')]
  }, { config: deviceConfig() })
  t.app.events.onEvent((r) => counted.push({ type: r.type, outcome: r.outcome }))
  await t.app.listen({ port: 0, host: '127.0.0.1' })
  base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`
})
afterAll(async () => {
  await Promise.all(clients.map(async (c) => await c.close()))
  await t.close()
})

const client = (over: Partial<PopguardClientOptions> = {}): PopguardClient => {
  // A deadline a loaded test machine always meets, unless a test is about deadlines (the default is 500 ms).
  const c = new PopguardClient({ baseUrl: base, apiKey: CLIENT_KEY, flushIntervalMs: 60_000, timeoutMs: 5000, ...over })
  clients.push(c)
  return c
}
const ask = (userId: string) => ({ userId, placement: 'home', candidates: ['spring-sale', 'quick-loan'] })

describe('decide', () => {
  it('answers what popguard decided, typed from the contract', async () => {
    const d = await client().decide(ask('ts-alice'))
    expect(d).toMatchObject({ reason: 'decided', show: { campaignId: 'spring-sale' }, status: 200, attempts: 1, userId: 'ts-alice' })
    const answer: DecideResponse = d.answer!
    expect(answer.candidates.map((c) => c.reason)).toEqual(['eligible', 'lower_priority'])
    expect(d.decisionId).toBe(answer.decisionId)
  })

  it('shows nothing, saying "timeout", when popguard does not answer within the deadline, after one retry', async () => {
    const p = await proxy(base, () => 'hang')
    try {
      const started = performance.now()
      const d = await client({ baseUrl: p.url, timeoutMs: 150 }).decide(ask('ts-bob'))
      const elapsed = performance.now() - started
      expect(d).toMatchObject({ show: null, reason: 'timeout', attempts: 2 })
      expect(elapsed).toBeGreaterThanOrEqual(300)
      expect(elapsed).toBeLessThan(2000)
    } finally { await p.close() }
  })

  it('shows nothing, saying "network_error", when nothing listens', async () => {
    const d = await client({ baseUrl: `http://127.0.0.1:${await freePort()}` }).decide(ask('ts-carol'))
    expect(d).toMatchObject({ show: null, reason: 'network_error', attempts: 2 })
  })

  it('shows nothing on 503 and other 5xx, with popguard\'s error, and never throws', async () => {
    for (const [status, reason] of [[503, 'unavailable'], [500, 'server_error'], [502, 'server_error']] as const) {
      const p = await proxy(base, () => ({ status, body: { error: 'unavailable', message: 'try later' } }))
      try {
        const d = await client({ baseUrl: p.url }).decide(ask('ts-dave'))
        expect(d, String(status)).toMatchObject({ show: null, reason, status, attempts: 2, error: { error: 'unavailable' } })
      } finally { await p.close() }
    }
  })

  it('does not retry a request popguard shed (503 with Retry-After): a retry would only add to its load', async () => {
    const p = await proxy(base, () => ({ status: 503, body: { error: 'unavailable', message: 'overloaded (in flight): retry in 1 s' }, headers: { 'retry-after': '1' } }))
    try {
      const d = await client({ baseUrl: p.url }).decide(ask('ts-shed'))
      expect(d).toMatchObject({ show: null, reason: 'unavailable', status: 503, attempts: 1 })
      expect(p.seen).toHaveLength(1)
    } finally { await p.close() }
  })

  it('shows nothing on a refusal (4xx) without retrying it', async () => {
    const d = await client({ apiKey: 'not-a-key-of-popguard' }).decide(ask('ts-erin'))
    expect(d).toMatchObject({ show: null, reason: 'refused', status: 401, attempts: 1, error: { error: 'unauthorized' } })
  })

  it('retries with the same requestId, so a decision whose answer was lost counts once', async () => {
    // The first attempt reaches popguard (counted) but its answer arrives after the deadline.
    const p = await proxy(base, (_s, n) => n === 1 ? { delayMs: 3000 } : 'forward')
    try {
      const d = await client({ baseUrl: p.url, timeoutMs: 1500 }).decide(ask('ts-frank'))
      expect(d).toMatchObject({ reason: 'decided', show: { campaignId: 'spring-sale' }, attempts: 2 })
      expect(p.seen).toHaveLength(2)
      expect(p.seen[1]!.body.requestId).toBe(p.seen[0]!.body.requestId)
      expect(p.seen.map((s) => s.requestIdHeader)).toEqual([d.requestId, d.requestId])
      expect(d.answer!.decisionId).toBe(d.decisionId)
    } finally { await p.close() }
    // Cap: two a day. The retried decision counted once, so one more pop-up is allowed, then none.
    const c = client()
    expect((await c.decide(ask('ts-frank'))).show).not.toBeNull()
    expect(await c.decide(ask('ts-frank'))).toMatchObject({ reason: 'decided', show: null })
  })
})

describe('events', () => {
  it('are queued and sent in one batch: shown, then dismissed', async () => {
    const c = client()
    const d = await c.decide(ask('ts-grace'))
    const before = counted.length
    expect(c.shown(d)).toBe(true)
    expect(c.dismissed(d)).toBe(true)
    expect(c.pendingEvents).toBe(2)
    expect(counted.length).toBe(before)
    const result = await c.flush()
    expect(result).toEqual({ sent: 2, accepted: 2, requeued: 0 })
    expect(c.pendingEvents).toBe(0)
    expect(counted.slice(before)).toEqual([{ type: 'shown', outcome: 'accepted' }, { type: 'dismissed', outcome: 'accepted' }])
  })

  it('are sent on the interval without being asked', async () => {
    const c = client({ flushIntervalMs: 100 })
    const d = await c.decide(ask('ts-heidi'))
    c.shown(d)
    const deadline = Date.now() + 3000
    while (c.pendingEvents > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25))
    expect(c.pendingEvents).toBe(0)
  })

  it('wait for the next flush when popguard could not take them', async () => {
    let failing = true
    const p = await proxy(base, () => failing ? { status: 503, body: { error: 'unavailable', message: 'down' } } : 'forward')
    try {
      const c = client({ baseUrl: p.url })
      const d = await client().decide(ask('ts-ivan'))
      c.shown(d)
      expect(await c.flush()).toEqual({ sent: 1, accepted: 0, requeued: 1 })
      expect(c.pendingEvents).toBe(1)
      failing = false
      expect(await c.flush()).toEqual({ sent: 1, accepted: 1, requeued: 0 })
    } finally { await p.close() }
  })

  it('are not queued for a decision that showed nothing', async () => {
    const c = client({ baseUrl: `http://127.0.0.1:${await freePort()}`, retries: 0 })
    const d = await c.decide(ask('ts-judy'))
    expect(c.shown(d)).toBe(false)
    expect(c.pendingEvents).toBe(0)
  })
})

describe('with an end-user token (a key shipped in an app)', () => {
  it('decides for the token\'s user and is refused for another user', async () => {
    const c = client({ apiKey: DEVICE_KEY, userToken: async () => await userToken('ts-kim') })
    expect(await c.decide(ask('ts-kim'))).toMatchObject({ reason: 'decided', status: 200 })
    expect(await c.decide(ask('ts-lee'))).toMatchObject({ reason: 'refused', status: 403, show: null, error: { error: 'forbidden' } })
  })

  it('shows nothing, saying "token_error", when the token cannot be had', async () => {
    const c = client({ apiKey: DEVICE_KEY, userToken: async () => { throw new Error('backend down') } })
    expect(await c.decide(ask('ts-kim'))).toMatchObject({ reason: 'token_error', show: null, attempts: 1 })
  })
})
