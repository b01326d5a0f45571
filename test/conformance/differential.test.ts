/**
 * The memory store and the Lua scripts are twins: random policies and random sequences of
 * decisions, events and preference changes, given to both with the same clock values, must give
 * the same outcomes and leave the same user state after every step (read back through the port).
 * A failure prints the shrunk sequence and the seed (fast-check) to replay it.
 */
import { randomUUID } from 'node:crypto'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest'
import { MemoryStore } from '../../src/memory/user-store.js'
import { createRedisClient } from '../../src/redis/connection.js'
import { RedisStore } from '../../src/redis/user-store/redis-user-store.js'
import { planDecision } from '../../src/rules/decide/plan.js'
import { EVENT_TYPES } from '../../src/rules/events/types.js'
import { compilePolicy } from '../../src/rules/policy/compile.js'
import type { Cap, Campaign, Policy } from '../../src/rules/policy/schema.js'
import { PREFERENCES_TTL_MS, preferencesToHash } from '../../src/rules/users/preferences.js'
import { eventBatchOf, type EventInput } from '../../src/services/events/event-service.js'
import type { Store } from '../../src/store/user-store.js'

/** Runs of the property; each a fresh policy and 5 to 30 steps for two users: 150 take ~3 s on a loaded 2-core machine. */
const RUNS = 150
const START = Date.parse('2026-06-01T10:00:00Z')
const MINUTE = 60_000
const HOUR = 60 * MINUTE

const CAMPAIGN_IDS = ['c0', 'c1', 'c2', 'c3'] as const
const CATEGORIES = ['promo', 'news'] as const
const PLACEMENTS = ['home', 'cart', 'checkout'] as const // checkout is undeclared: `other`
const USERS = ['u0', 'u1'] as const

const capArb = (id: string): fc.Arbitrary<Cap> => fc.record({
  id: fc.constant(id),
  per: fc.constantFrom('user', 'category', 'campaign', 'placement'),
  limit: fc.integer({ min: 0, max: 4 }),
  window: fc.constantFrom('1m', '10m', '1h', '6h', '1d', 'calendarDay'),
  match: fc.option(fc.record({
    category: fc.constantFrom(...CATEGORIES),
    placement: fc.constantFrom('home', 'other')
  }, { requiredKeys: [] }), { nil: undefined }),
  reserve: fc.option(fc.record({ slots: fc.integer({ min: 0, max: 2 }), minPriority: fc.integer({ min: 0, max: 100 }) }), { nil: undefined })
}, { requiredKeys: ['id', 'per', 'limit', 'window'] })

const capsArb = (prefix: string, max: number): fc.Arbitrary<Cap[]> =>
  fc.integer({ min: 0, max }).chain((n) => n === 0 ? fc.constant([]) : fc.tuple(...Array.from({ length: n }, (_, i) => capArb(`${prefix}${i}`))))

const campaignArb = (id: string): fc.Arbitrary<Campaign> => fc.record({
  id: fc.constant(id),
  name: fc.constant(id),
  class: fc.constantFrom('marketing', 'marketing', 'service', 'critical'),
  category: fc.constantFrom(...CATEGORIES),
  priority: fc.integer({ min: 0, max: 100 }),
  status: fc.constantFrom('active', 'active', 'active', 'paused'),
  startsAt: fc.constant(null),
  endsAt: fc.constant(null),
  caps: capsArb(`${id}-cap`, 2)
})

const policyArb: fc.Arbitrary<Policy> = fc.record({
  defaultTimezone: fc.constantFrom('UTC', 'Asia/Shanghai', 'America/New_York'),
  placements: fc.constant(['home', 'cart']),
  caps: capsArb('cap', 3),
  cooldown: fc.option(fc.constantFrom('30s', '5m', '1h'), { nil: undefined }),
  fatigue: fc.option(fc.record({ dismissals: fc.integer({ min: 1, max: 3 }), within: fc.constantFrom('1h', '1d'), backoff: fc.constantFrom('1h', '2d') }), { nil: undefined }),
  reservation: fc.option(fc.record({ lease: fc.constantFrom('1m', '10m'), unconfirmed: fc.constantFrom('count', 'release') }), { nil: undefined }),
  mode: fc.constantFrom('enforce', 'enforce', 'shadow'),
  onStoreFailure: fc.constant({ marketing: 'suppress', service: 'allow', critical: 'allow' })
}, { requiredKeys: ['defaultTimezone', 'placements', 'caps', 'mode', 'onStoreFailure'] }) as fc.Arbitrary<Policy>

type Step =
  | { kind: 'decide', advanceMs: number, user: number, placement: string, candidates: string[], requestId: number | null }
  | { kind: 'events', advanceMs: number, user: number, events: { decision: number, wrongId: boolean, otherUser: boolean, otherCampaign: boolean, type: typeof EVENT_TYPES[number], lateMs: number }[] }
  | { kind: 'preferences', advanceMs: number, user: number, marketing: 'on' | 'off', categoryOff: string | null, snoozeMs: number | null }

// Mostly small steps (within caps, cooldowns and leases), now and then a jump past a window.
const advanceArb = fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 0, max: 2 * MINUTE }) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 30 * HOUR }) })
const userArb = fc.integer({ min: 0, max: USERS.length - 1 })

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('decide' as const),
      advanceMs: advanceArb,
      user: userArb,
      placement: fc.constantFrom(...PLACEMENTS),
      candidates: fc.uniqueArray(fc.constantFrom(...CAMPAIGN_IDS, 'missing'), { minLength: 1, maxLength: 3 }),
      requestId: fc.option(fc.integer({ min: 0, max: 3 }), { nil: null })
    })
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('events' as const),
      advanceMs: advanceArb,
      user: userArb,
      events: fc.array(fc.record({
        decision: fc.nat(),
        wrongId: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
        otherUser: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
        otherCampaign: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
        type: fc.constantFrom(...EVENT_TYPES),
        lateMs: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 3 * HOUR }) })
      }), { minLength: 1, maxLength: 4 })
    })
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('preferences' as const),
      advanceMs: advanceArb,
      user: userArb,
      marketing: fc.constantFrom('on', 'off'),
      categoryOff: fc.option(fc.constantFrom(...CATEGORIES), { nil: null }),
      snoozeMs: fc.option(fc.integer({ min: MINUTE, max: 2 * HOUR }), { nil: null })
    })
  }
)

describe('memory and Redis user stores, differential', () => {
  let redis: RedisStore
  beforeAll(async () => {
    redis = new RedisStore(createRedisClient({ url: inject('redisUrl'), commandTimeoutMs: 5000 }), { keyPrefix: `pg:diff:${randomUUID().slice(0, 8)}:`, timeoutMs: 4000 })
    expect(await redis.waitUntilReady(5000)).toBe(true)
  })
  afterAll(async () => { await redis.close() })

  it('give the same outcomes and keep the same user state for random policies and steps', async () => {
    await fc.assert(fc.asyncProperty(policyArb, fc.tuple(...CAMPAIGN_IDS.map(campaignArb)), fc.array(stepArb, { minLength: 5, maxLength: 30 }),
      async (doc, campaigns, steps) => {
        const compiled = compilePolicy(doc, campaigns, 1)
        const run = randomUUID().slice(0, 8)
        const tags = USERS.map((u) => `${run}-${u}`)
        const memory = new MemoryStore()
        const stores: [string, Store][] = [['memory', memory], ['redis', redis]]
        /** The decisions that showed something so far: whose, their ids and the campaign each showed. */
        const decisions: { user: number, decisionId: string, shown: string }[] = []
        let now = START
        try {
          for (const [i, step] of steps.entries()) {
            now += step.advanceMs
            const tag = tags[step.user] as string
            const at = `step ${i} (${step.kind})`
            if (step.kind === 'decide') {
              const plan = planDecision({
                userId: tag,
                placement: step.placement,
                candidates: step.candidates.map((campaignId) => ({ campaignId })),
                ...(step.requestId === null ? {} : { requestId: `${tag}-r${step.requestId}` })
              }, compiled, doc.defaultTimezone, { now, decisionId: randomUUID(), enforce: doc.mode === 'enforce', echo: '[1]' })
              const [m, r] = await Promise.all(stores.map(async ([, s]) => await s.decide(tag, plan)))
              expect(r, at).toEqual(m)
              if (m !== undefined && m.winner >= 0 && !m.replayed) {
                decisions.push({ user: step.user, decisionId: m.decisionId, shown: step.candidates[m.winner] as string })
              }
            } else if (step.kind === 'events') {
              const mine = decisions.filter((d) => d.user === step.user)
              const events: EventInput[] = step.events.map((e) => {
                // Mostly this user's own decisions; now and then another user's, or an id no one was given.
                const pool = e.otherUser ? decisions : mine
                const d = pool.length === 0 ? undefined : pool[e.decision % pool.length]
                const campaignId = d === undefined || e.otherCampaign ? CAMPAIGN_IDS[e.decision % CAMPAIGN_IDS.length] as string : d.shown
                return {
                  decisionId: d === undefined || e.wrongId ? randomUUID() : d.decisionId,
                  userId: tag,
                  campaignId,
                  type: e.type,
                  ...(e.lateMs === 0 ? {} : { at: new Date(now - e.lateMs).toISOString() })
                }
              })
              const batch = eventBatchOf(events, compiled, now)
              const [m, r] = await Promise.all(stores.map(async ([, s]) => await s.applyEvents(tag, batch)))
              expect(r, at).toEqual(m)
            } else {
              const hash = preferencesToHash({
                marketing: step.marketing,
                ...(step.categoryOff === null ? {} : { categories: { [step.categoryOff]: 'off' } }),
                ...(step.snoozeMs === null ? {} : { snoozeUntil: new Date(now + step.snoozeMs).toISOString() })
              }, now)
              // Two history records a write, three kept: the twins must agree on the order and the trim.
              const history = { entries: [`${at}:a`, `${at}:b`], keep: 3, ttlMs: PREFERENCES_TTL_MS }
              await Promise.all(stores.map(async ([, s]) => { await s.writePreferences(tag, hash, PREFERENCES_TTL_MS, history) }))
            }
            const [m, r] = await Promise.all(stores.map(async ([, s]) => await s.readUser(tag)))
            expect(r, `${at}: user state`).toEqual(m)
          }
        } finally {
          await memory.close()
          await Promise.all(tags.map(async (t) => await redis.erase(t)))
        }
      }), { numRuns: RUNS })
  })
})
