/**
 * The over-limit cache (docs/architecture.md): bounded, never caches a show or answers for a
 * service candidate; with it on, two instances on one Redis still allow exactly the cap, and
 * every change that can loosen a fact reaches the other instance within a second.
 */
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { OverLimitCache } from '../src/services/decide/over-limit-cache.js'
import type { DecisionPlan, PlanCandidate } from '../src/rules/decide/types.js'
import type { PolicyFile } from '../src/rules/policy/schema.js'
import { campaign, policy, testApp, uniquePrefix, userTag, type TestApp } from './helpers/app.js'
import { admin, timeUntil } from './governance/helpers.js'
import { userControl } from './helpers/user-control.js'

const candidate = (over: Partial<PlanCandidate> = {}): PlanCandidate => ({
  classCode: 'm', priority: 50, campaignCode: 'aaaaaa', categoryCode: 'cccccc', categoryName: 'promo', final: '', gate: '', gateRetryMs: 0, caps: [], shadowGate: '', ...over
})
const plan = (now: number, candidates: PlanCandidate[], over: Partial<DecisionPlan> = {}): DecisionPlan => ({
  now,
  decisionId: 'd',
  nonce: 'n',
  requestId: '',
  enforce: true,
  placementCode: 'pppppp',
  horizonMs: 0,
  ledgerTtlMs: 1,
  leaseMs: 0,
  releaseUnconfirmed: false,
  cooldownMs: 0,
  cooldownShadow: false,
  fatigueShadow: false,
  idempotencyTtlMs: 1,
  echo: '',
  candidates,
  ...over
})
const none = (): number => Infinity
const live = (cache: OverLimitCache): OverLimitCache => {
  cache.resume()
  return cache
}

describe('the over-limit cache, alone', () => {
  it('answers a covered campaign until min(T, learnt + max staleness), and nothing else', () => {
    const cache = live(new OverLimitCache({ maxStalenessMs: 60_000 }))
    const a = candidate()
    cache.learn('u', plan(1000, [a]), 'UTC', -1, [{ reason: 'cap_exceeded', capId: 'daily', retryMs: 30_000 }], none)
    expect(cache.lookup('u', plan(2000, [a]), 'UTC')).toEqual({ verdicts: [{ reason: 'cap_exceeded', capId: 'daily', retryMs: 29_000 }] })
    expect(cache.lookup('u', plan(31_000, [a]), 'UTC')).toBeNull() // T reached
    // Another campaign, placement or zone is not covered; a service candidate never is.
    expect(cache.lookup('u', plan(2000, [candidate({ campaignCode: 'bbbbbb' })]), 'UTC')).toBeNull()
    expect(cache.lookup('u', plan(2000, [a], { placementCode: 'qqqqqq' }), 'UTC')).toBeNull()
    expect(cache.lookup('u', plan(2000, [a]), 'Asia/Tokyo')).toBeNull()
    expect(cache.lookup('u', plan(2000, [a, candidate({ classCode: 's', campaignCode: 'ssssss' })]), 'UTC')).toBeNull()
    // Outside enforcement (shadow mode, holdout) nothing is answered.
    expect(cache.lookup('u', plan(2000, [a], { enforce: false }), 'UTC')).toBeNull()

    cache.learn('v', plan(1000, [a]), 'UTC', -1, [{ reason: 'cooldown', retryMs: 3_600_000 }], none)
    expect(cache.lookup('v', plan(60_999, [a]), 'UTC')).toEqual({ verdicts: [{ reason: 'cooldown', retryMs: 3_540_001 }] })
    expect(cache.lookup('v', plan(61_000, [a]), 'UTC')).toBeNull() // max staleness reached
  })

  it('applies the plan\'s own verdicts (unknown campaign, quiet hours) to covered requests', () => {
    const cache = live(new OverLimitCache({ maxStalenessMs: 60_000 }))
    cache.learn('u', plan(0, [candidate()]), 'UTC', -1, [{ reason: 'cap_exceeded', capId: 'k', retryMs: 10_000 }], none)
    const hit = cache.lookup('u', plan(1, [candidate({ gate: 'quiet_hours', gateRetryMs: 5000 }), candidate({ campaignCode: 'zzzzzz', final: 'campaign_unknown' })]), 'UTC')
    expect(hit).toEqual({ verdicts: [{ reason: 'quiet_hours', retryMs: 5000 }, { reason: 'campaign_unknown' }] })
  })

  it('never caches a show, nor an unenforced verdict or one without a retry time', () => {
    const cache = live(new OverLimitCache({ maxStalenessMs: 60_000 }))
    const a = candidate()
    const b = candidate({ campaignCode: 'bbbbbb' })
    cache.learn('u', plan(0, [a]), 'UTC', -1, [{ reason: 'cap_exceeded', capId: 'k', retryMs: 10_000 }], none)
    cache.learn('u', plan(1, [a, b]), 'UTC', 1, [{ reason: 'cap_exceeded', capId: 'k', retryMs: 10_000 }, { reason: 'eligible' }], none)
    expect(cache.lookup('u', plan(2, [a]), 'UTC')).toBeNull()
    cache.learn('w', plan(0, [a]), 'UTC', -1, [{ reason: 'cap_exceeded', capId: 'k', retryMs: 10_000, unenforced: true }], none)
    cache.learn('w', plan(0, [b]), 'UTC', -1, [{ reason: 'cap_exceeded', capId: 'k' }], none)
    expect(cache.size).toBe(0)
  })

  it('learns the cooldown a marketing show starts, for the campaigns whose consent it saw clear, and answers no show', () => {
    const cache = live(new OverLimitCache({ maxStalenessMs: 60_000 }))
    const [a, b, c] = [candidate(), candidate({ campaignCode: 'bbbbbb' }), candidate({ campaignCode: 'cccccc' })]
    cache.learn('u', plan(0, [a, b, c], { cooldownMs: 600_000, requestId: 'r1' }), 'UTC', 0, [{ reason: 'eligible' }, { reason: 'lower_priority' }, { reason: 'opted_out' }], none)
    expect(cache.lookup('u', plan(10, [b, a]), 'UTC')).toEqual({ verdicts: [{ reason: 'cooldown', retryMs: 599_990 }, { reason: 'cooldown', retryMs: 599_990 }] })
    expect(cache.lookup('u', plan(10, [c]), 'UTC')).toBeNull() // opted out: not covered
    expect(cache.lookup('u', plan(10, [a], { requestId: 'r1' }), 'UTC')).toBeNull() // a retry of the show: Redis replays it
    expect(cache.lookup('u', plan(60_000, [a]), 'UTC')).toBeNull()
  })

  it('covers every marketing campaign in a cooldown when Redis saw no consent rule in force for the user', () => {
    const cache = live(new OverLimitCache({ maxStalenessMs: 60_000 }))
    const [a, b] = [candidate(), candidate({ campaignCode: 'bbbbbb' })]
    cache.learn('u', plan(0, [a], { cooldownMs: 600_000 }), 'UTC', 0, [{ reason: 'eligible' }], none, true)
    expect(cache.lookup('u', plan(10, [b]), 'UTC')).toEqual({ verdicts: [{ reason: 'cooldown', retryMs: 599_990 }] })
    cache.learn('v', plan(0, [a], { cooldownMs: 600_000 }), 'UTC', 0, [{ reason: 'eligible' }], none, false)
    expect(cache.lookup('v', plan(10, [b]), 'UTC')).toBeNull()
  })

  it('sends a retry of a requestId Redis decided back to Redis, and replays one it answered itself', () => {
    const cache = live(new OverLimitCache({ maxStalenessMs: 60_000 }))
    const a = candidate()
    cache.learn('u', plan(0, [a], { requestId: 'r1' }), 'UTC', -1, [{ reason: 'cap_exceeded', capId: 'k', retryMs: 10_000 }], none)
    expect(cache.lookup('u', plan(1, [a], { requestId: 'r1' }), 'UTC')).toBeNull()
    expect(cache.lookup('u', plan(1, [a], { requestId: 'r2' }), 'UTC')).not.toBeNull()
    cache.answered('u', 'r2', { first: true })
    expect(cache.lookup('u', plan(2, [a], { requestId: 'r2' }), 'UTC')).toEqual({ replay: { first: true } })
  })

  it('answers and learns nothing while its invalidation channel is not listened to', () => {
    const cache = live(new OverLimitCache({ maxStalenessMs: 60_000 }))
    cache.learn('u', plan(0, [candidate()]), 'UTC', -1, [{ reason: 'cap_exceeded', capId: 'k', retryMs: 10_000 }], none)
    cache.suspend()
    expect(cache.lookup('u', plan(1, [candidate()]), 'UTC')).toBeNull()
    cache.learn('u', plan(2, [candidate()]), 'UTC', -1, [{ reason: 'cap_exceeded', capId: 'k', retryMs: 10_000 }], none)
    cache.resume()
    expect(cache.lookup('u', plan(3, [candidate()]), 'UTC')).toBeNull()
  })

  it('stays within its entries and bytes, dropping the least recently used', () => {
    let evictions = 0
    const cache = live(new OverLimitCache({ maxStalenessMs: 60_000, maxEntries: 3, maxBytes: 10_000, onEvict: () => { evictions++ } }))
    const a = candidate()
    const learn = (tag: string): void => cache.learn(tag, plan(0, [a]), 'UTC', -1, [{ reason: 'cap_exceeded', capId: 'k', retryMs: 10_000 }], none)
    learn('u1'); learn('u2'); learn('u3')
    expect(cache.lookup('u1', plan(1, [a]), 'UTC')).not.toBeNull() // u1 is now the most recently used
    learn('u4')
    expect(cache.size).toBe(3)
    expect(evictions).toBe(1)
    expect(cache.lookup('u2', plan(1, [a]), 'UTC')).toBeNull()
    expect(cache.lookup('u1', plan(1, [a]), 'UTC')).not.toBeNull()

    const small = live(new OverLimitCache({ maxStalenessMs: 60_000, maxBytes: 2_000 }))
    for (let i = 0; i < 100; i++) small.learn(`user-${i}`, plan(0, [a]), 'UTC', -1, [{ reason: 'cap_exceeded', capId: 'k', retryMs: 10_000 }], none)
    expect(small.bytes).toBeLessThanOrEqual(2_000)
    expect(small.size).toBeGreaterThan(0)
    expect(small.size).toBeLessThan(100)
  })
})

const ONE_A_DAY: PolicyFile = {
  policy: policy({ caps: [{ id: 'daily', per: 'user', limit: 1, window: '1d' }] }),
  campaigns: [campaign('a'), campaign('b'), campaign('svc', { class: 'service' })]
}
const BOUND_MS = 1000

async function hits (t: TestApp): Promise<number> {
  const metric = await t.app.metrics.registry.getSingleMetric('popguard_overlimit_cache_hits_total')?.get()
  return metric?.values[0]?.value ?? 0
}

describe('the over-limit cache on Redis, two instances', () => {
  const apps: TestApp[] = []
  afterEach(async () => {
    await Promise.all(apps.map((a) => a.close()))
    apps.length = 0
  })
  async function pair (file: PolicyFile, logger?: any): Promise<[TestApp, TestApp]> {
    const prefix = uniquePrefix()
    const a = await testApp('redis-cached', file, { prefix, checkEveryMs: 60_000 })
    const b = await testApp('redis-cached', file, { prefix, checkEveryMs: 60_000, logger })
    apps.push(a, b)
    // The cache answers once its instance listens to the invalidation channel.
    await timeUntil(async () => a.app.overLimitCache?.live === true && b.app.overLimitCache?.live === true)
    return [a, b]
  }
  const ask = (t: TestApp, userId: string, ids = ['a']) =>
    t.decide({ userId, placement: 'home', candidates: ids.map((campaignId) => ({ campaignId })) })

  /** The user's one daily slot is used, and both instances have the fact and answer it themselves. */
  async function capped (a: TestApp, b: TestApp, userId: string): Promise<void> {
    expect((await ask(a, userId)).body.show).toEqual({ campaignId: 'a' })
    for (const t of [a, b]) {
      expect((await ask(t, userId)).body.candidates[0]).toMatchObject({ reason: 'cap_exceeded', capId: 'daily' })
      const before = await hits(t)
      expect((await ask(t, userId)).body.candidates[0]).toMatchObject({ reason: 'cap_exceeded', capId: 'daily' })
      expect(await hits(t)).toBe(before + 1)
    }
  }

  it('allows exactly the cap from two instances (200 racing requests, cap 3), answering most from the cache', async () => {
    const [a, b] = await pair({ policy: policy({ caps: [{ id: 'daily', per: 'user', limit: 3, window: '1d' }] }), campaigns: [campaign('a'), campaign('b'), campaign('c')] })
    const answers: any[] = []
    for (let round = 0; round < 10; round++) {
      answers.push(...await Promise.all(Array.from({ length: 20 }, async (_, i) => (await ask(i % 2 === 0 ? a : b, 'racer', ['a', 'b', 'c'])).body)))
    }
    expect(answers.filter((x) => x.show !== null)).toHaveLength(3)
    expect(answers.every((x) => x.candidates.every((c: any) => c.reason !== 'degraded'))).toBe(true)
    expect(await hits(a) + await hits(b)).toBeGreaterThan(100)
  })

  it('never answers a request with a service candidate, and logs cached answers with cache: true', async () => {
    const lines: any[] = []
    const sink = new Writable({ write (chunk, _enc, done) { lines.push(JSON.parse(String(chunk))); done() } })
    const [a, b] = await pair(ONE_A_DAY, pino({ level: 'info' }, sink))
    await capped(a, b, 'mixed')
    const before = await hits(b)
    const withService = await ask(b, 'mixed', ['a', 'svc'])
    expect(withService.body.show).toEqual({ campaignId: 'svc' })
    expect(await hits(b)).toBe(before)
    const decisions = lines.filter((l) => l.event === 'decision')
    expect(decisions.map((d) => d.cache)).toEqual([false, true, false])
    // Counted as decisions like any other: one each, with its verdicts.
    const counted = await b.app.metrics.registry.getSingleMetric('popguard_decisions_total')?.get()
    expect(counted?.values.reduce((n, v) => n + v.value, 0)).toBe(3)
    const verdicts = await b.app.metrics.registry.getSingleMetric('popguard_candidates_total')?.get()
    expect(verdicts?.values.find((v) => v.labels.reason === 'cap_exceeded' && v.labels.class === 'marketing')?.value).toBe(3)
  })

  async function loosened (b: TestApp, userId: string, change: () => Promise<void>): Promise<number> {
    await change()
    return await timeUntil(async () => (await ask(b, userId)).body.show !== null, 5000)
  }

  it('drops a user on every instance within 1 s when a discarded event frees the slot', async () => {
    const [a, b] = await pair(ONE_A_DAY)
    const first = await ask(a, 'discarder')
    expect(first.body.show).toEqual({ campaignId: 'a' })
    for (const t of [a, b]) for (let i = 0; i < 2; i++) expect((await ask(t, 'discarder')).body.show).toBeNull()
    const ms = await loosened(b, 'discarder', async () => {
      const res = await userControl(a).events([{ decisionId: first.body.decisionId, userId: 'discarder', campaignId: 'a', type: 'discarded' }])
      expect(res.body.accepted).toBe(1)
    })
    expect(ms).toBeLessThan(BOUND_MS)
  })

  it('drops a user on every instance within 1 s on erasure', async () => {
    const [a, b] = await pair(ONE_A_DAY)
    await capped(a, b, 'eraser')
    const ms = await loosened(b, 'eraser', async () => { expect((await userControl(a).erase('eraser')).status).toBe(204) })
    expect(ms).toBeLessThan(BOUND_MS)
  })

  it('drops a user on every instance within 1 s when their preferences change', async () => {
    const [a, b] = await pair(ONE_A_DAY)
    await capped(a, b, 'chooser')
    expect((await userControl(a).putPrefs('chooser', { marketing: 'off' })).status).toBe(200)
    const ms = await timeUntil(async () => (await ask(b, 'chooser')).body.candidates[0].reason === 'opted_out', 5000)
    expect(ms).toBeLessThan(BOUND_MS)
  })

  it('clears every instance within 1 s when the policy changes', async () => {
    const [a, b] = await pair(ONE_A_DAY)
    await capped(a, b, 'policy-user')
    const ms = await loosened(b, 'policy-user', async () => {
      expect((await admin(a, 'PUT', '/v1/policy', { ...ONE_A_DAY.policy, caps: [{ id: 'daily', per: 'user', limit: 5, window: '1d' }] })).status).toBe(200)
    })
    expect(ms).toBeLessThan(BOUND_MS)
  })

  it('clears every instance within 1 s when a campaign changes', async () => {
    const file: PolicyFile = { policy: policy(), campaigns: [campaign('a', { caps: [{ id: 'own', per: 'user', limit: 1, window: '1d' }] })] }
    const [a, b] = await pair(file)
    expect((await ask(a, 'campaign-user')).body.show).toEqual({ campaignId: 'a' })
    for (const t of [a, b]) for (let i = 0; i < 2; i++) expect((await ask(t, 'campaign-user')).body.candidates[0].reason).toBe('cap_exceeded')
    expect(await hits(b)).toBe(1)
    const ms = await loosened(b, 'campaign-user', async () => {
      expect((await admin(a, 'PUT', '/v1/campaigns/a', campaign('a', { caps: [{ id: 'own', per: 'user', limit: 3, window: '1d' }] }))).status).toBe(200)
    })
    expect(ms).toBeLessThan(BOUND_MS)
  })

  it('clears every instance within 1 s when a penalty is lifted', async () => {
    const file: PolicyFile = { policy: policy(), campaigns: [campaign('a')] }
    const [a, b] = await pair(file)
    expect((await admin(a, 'POST', '/v1/campaigns/a/penalties', { action: 'limit', reason: 'too many', caps: [{ id: 'penalty', per: 'user', limit: 1, window: '1d' }] })).status).toBe(200)
    await timeUntil(async () => b.app.policy.current.campaigns.get('a')?.penalty !== null)
    expect((await ask(a, 'penalized')).body.show).toEqual({ campaignId: 'a' })
    for (const t of [a, b]) for (let i = 0; i < 2; i++) expect((await ask(t, 'penalized')).body.candidates[0]).toMatchObject({ reason: 'cap_exceeded', capId: 'penalty' })
    expect(await hits(b)).toBe(1)
    const ms = await loosened(b, 'penalized', async () => {
      expect((await admin(a, 'DELETE', '/v1/campaigns/a/penalties', undefined, { 'if-match': '*', 'x-change-reason': 'fixed' })).status).toBe(200)
    })
    expect(ms).toBeLessThan(BOUND_MS)
  })

  it('keys its facts by the user tag, never the raw id', async () => {
    const [a] = await pair(ONE_A_DAY)
    await ask(a, 'alice@example.com')
    await ask(a, 'alice@example.com')
    const cache = a.app.overLimitCache
    expect(cache?.size).toBe(1)
    expect(cache?.lookup(userTag('alice@example.com'), { ...plan(Date.now(), []), requestId: '' }, 'UTC')).not.toBeNull()
  })
})
