/**
 * Random requests over every route the app serves, unknown paths and wrong methods (fast-check,
 * fixed seed, bounded runs: reproducible). Properties, on the memory store and on a healthy Redis:
 * never a 5xx; every 4xx body is the one error shape with a known code (3xx: the docs' redirects); a refused request
 * (4xx) counts nothing (decision, candidate and event counters unchanged, no key written in Redis).
 * FUZZ_SEED and FUZZ_RUNS override the seed and the number of runs; a failure prints the seed.
 */
import fc from 'fast-check'
import type { FastifyInstance } from 'fastify'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp, EXAMPLE_POLICY_FILE } from '../src/app.js'
import { loadPolicyFile } from '../src/config/policy-file.js'
import type { PolicyFile } from '../src/rules/policy/schema.js'
import { testConfig, uniquePrefix } from './helpers/app.js'
import { errorShapeProblem } from './helpers/error-shape.js'
import { requestsTo, requestsToUnknownPaths, routesOf, type FuzzRequest, type Route, type Vocabulary } from './helpers/fuzz-requests.js'
import { scrape } from './helpers/metrics.js'
import type { OpenApiDoc } from './helpers/openapi.js'
import { startRedisServer, type RedisServer } from './helpers/redis-server.js'

const SEED = Number(process.env.FUZZ_SEED ?? 20261202)
const RUNS = Number(process.env.FUZZ_RUNS ?? 400)
/** A few seconds on an idle machine; room for a busy one (other suites share its two cores). */
const TIMEOUT_MS = 60_000 + RUNS * 50
/** The metrics a request can move, and the observer hooks that feed them (read per request: a scrape costs ms). */
const COUNTERS = ['popguard_decisions_total', 'popguard_candidates_total', 'popguard_events_total'] as const
type Counts = Record<typeof COUNTERS[number], number>

function observeCounts (app: FastifyInstance): Counts {
  const counts: Counts = { popguard_decisions_total: 0, popguard_candidates_total: 0, popguard_events_total: 0 }
  app.decisions.onDecision((r) => {
    counts.popguard_decisions_total++
    counts.popguard_candidates_total += r.answer.candidates.length
  })
  app.events.onEvent(() => { counts.popguard_events_total++ })
  return counts
}

/**
 * Every key written on the file's own Redis, seen through keyspace notifications. `settle`
 * publishes a marker and waits for it: notifications arrive in order, so by then it holds
 * every write made before.
 */
class KeyWrites {
  private seen: string[] = []
  private marker = 0
  private waiting: (() => void) | null = null
  private constructor (private readonly sub: Redis, private readonly pub: Redis) {}

  static async watch (url: string): Promise<KeyWrites> {
    const pub = new Redis(url)
    await pub.config('SET', 'notify-keyspace-events', 'Kg$lshzt')
    const watcher = new KeyWrites(new Redis(url), pub)
    watcher.sub.on('pmessage', (_pattern, channel, message) => {
      if (channel === 'fuzz:marker') {
        if (Number(message) === watcher.marker) watcher.waiting?.()
      } else {
        watcher.seen.push(`${message} ${channel.slice(channel.indexOf(':') + 1)}`)
      }
    })
    await watcher.sub.psubscribe('__keyspace@0__:*', 'fuzz:marker')
    return watcher
  }

  /** The writes since the last call. */
  async settle (): Promise<string[]> {
    const arrived = new Promise<void>((resolve) => { this.waiting = resolve })
    await this.pub.publish('fuzz:marker', String(++this.marker))
    await arrived
    const writes = this.seen
    this.seen = []
    return writes
  }

  close (): void {
    this.sub.disconnect()
    this.pub.disconnect()
  }
}

/** A calendar day near today, `YYYY-MM-DD`. */
const today = (offsetDays: number): string => new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10)

interface Decided { decisionId: string, userId: string, campaignId: string }

/** Events naming `$decision` get a real decision of the run so far (its user and campaign too). */
function withRealDecisions (req: FuzzRequest, decided: Decided[], n: number): FuzzRequest {
  const events = (req.payload as { events?: unknown } | undefined)?.events
  if (decided.length === 0 || !Array.isArray(events)) return req
  const filled = events.map((e, i) => typeof e === 'object' && e !== null && (e as Decided).decisionId === '$decision'
    ? { ...e, ...decided[(n + i) % decided.length] }
    : e)
  return { ...req, payload: { ...(req.payload as object), events: filled } }
}

let redis: RedisServer
let file: PolicyFile
beforeAll(async () => {
  redis = await startRedisServer()
  file = await loadPolicyFile(EXAMPLE_POLICY_FILE)
})
afterAll(async () => { await redis.stop() })

describe.each(['memory', 'redis'] as const)('random requests over every route (%s store)', (kind) => {
  let app: FastifyInstance
  let writes: KeyWrites | null = null
  beforeAll(async () => {
    const onRedis = kind === 'redis'
      // A healthy Redis: a deadline no busy test machine misses; reports flushed only on close, so no write is in the background.
      ? { redis: { url: redis.url, commandTimeoutMs: 2000 }, keyPrefix: uniquePrefix() }
      : {}
    app = await buildApp(testConfig({ ...onRedis, reports: { flushEveryMs: 3_600_000, retentionDays: 30, maxPendingUsers: 50_000 } }), { policy: file })
    if (onRedis) writes = await KeyWrites.watch(redis.url)
  })
  afterAll(async () => {
    writes?.close()
    await app.close()
  })

  it('never answers 5xx, always answers errors in the one shape, and counts nothing for a refused request', async () => {
    const doc = app.swagger() as unknown as OpenApiDoc
    const routes = routesOf(app)
    expect(routes.length).toBeGreaterThan(20)
    const campaigns = [...file.campaigns.map((c) => c.id), 'ghost']
    const users = ['u-1', 'u-2', 'u-3']
    const vocabulary: Vocabulary = {
      campaigns,
      users,
      words: ['home', 'checkout', 'UTC', 'promo', 'loans', 'active', 'suspended', 'on', 'off', '2026-12-01'],
      byField: {
        campaignId: campaigns,
        id: campaigns,
        userId: users,
        placement: ['home', 'feed'],
        timezone: ['UTC', 'Asia/Shanghai', 'Europe/Paris', 'america/new_york'],
        activity: ['browsing', 'checkout'],
        category: ['promo', 'loans'],
        from: [today(-1), today(0)],
        to: [today(0), today(1)]
      }
    }
    // Writes most, decisions and events above all: they reach the store; reads and docs least.
    const weightOf = (r: Route): number => ['/v1/decide', '/v1/events'].includes(r.path) ? 6 : r.methods.some((m) => ['POST', 'PUT', 'DELETE'].includes(m)) ? 4 : 1
    const requests = fc.oneof(
      ...routes.map((r) => ({ weight: weightOf(r), arbitrary: requestsTo(r, doc, vocabulary) })),
      { weight: 2, arbitrary: requestsToUnknownPaths(routes) }
    )

    const decided: Decided[] = []
    const statuses = new Map<number, number>()
    let runs = 0
    const counts = observeCounts(app)
    let before = { ...counts }
    await writes?.settle()
    await fc.assert(fc.asyncProperty(requests, async (generated) => {
      const req = withRealDecisions(generated, decided, runs++)
      const res = await app.inject({ method: req.method as 'GET', url: req.url, headers: req.headers, ...(req.payload === undefined ? {} : { payload: req.payload }) })
      const where = `${req.method} ${req.url.slice(0, 200)} -> ${res.statusCode} ${res.body.slice(0, 300)}`
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1)
      const path = req.url.split('?')[0]
      const previous = before
      const after = { ...counts }
      // Kept before any assertion: a failing run must not leave the next one (fast-check shrinks) comparing with stale counts.
      before = after
      const written = await writes?.settle() ?? []

      expect(res.statusCode, where).toBeLessThan(500)
      // The docs' own redirects (302 to /docs/) are answers, not errors.
      if (res.statusCode >= 300 && res.statusCode < 400) expect(res.headers.location, where).toBeTypeOf('string')
      if (res.statusCode >= 400 && req.method !== 'HEAD') expect(errorShapeProblem(res.body), where).toBeNull()
      if (res.statusCode >= 400) {
        expect(after, `a refused request counted: ${where}`).toEqual(previous)
        expect(written, `a refused request wrote to Redis: ${where}`).toEqual([])
      }
      if (res.statusCode === 200 && path === '/v1/decide' && req.method === 'POST') {
        expect(after.popguard_decisions_total, `a decision was not counted: ${where}`).toBe(previous.popguard_decisions_total + 1)
        const answer = res.json()
        const userId = (req.payload as { userId: string }).userId
        if (answer.show !== null) decided.push({ decisionId: answer.decisionId, userId, campaignId: answer.show.campaignId })
      }
    }), { seed: SEED, numRuns: RUNS })

    // The observers saw what the exported counters count.
    const { value } = await scrape(app)
    expect(Object.fromEntries(COUNTERS.map((c) => [c, value(c)]))).toEqual(counts)
    const tally = [...statuses].sort(([a], [b]) => a - b).map(([s, n]) => `${s}: ${n}`).join(', ')
    console.log(`fuzz (${kind}, seed ${SEED}, ${RUNS} runs): ${tally}; ${decided.length} decisions shown`)
    // The properties were tested, not skipped: requests were refused, and decisions were made and counted.
    expect([...statuses.keys()].some((s) => s >= 400)).toBe(true)
    expect(decided.length).toBeGreaterThan(0)
  }, TIMEOUT_MS)
})
