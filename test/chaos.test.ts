/**
 * Chaos, bounded: under decide + events load from two instances on one real redis-server, Redis is
 * in turn restarted (SHUTDOWN NOSAVE, empty again), paused (SIGSTOP, then SIGCONT) and filled to
 * maxmemory (noeviction). Throughout: no crash, decide never answers a 5xx, events answer 202 or,
 * only while a fault lasts, the documented 503 "send the batch again"; no user whose writes were
 * not lost (all but those decided across the restart) is shown more than the cap, and a user asked
 * only while Redis was healthy is shown exactly the cap. After each fault clears, a fresh user is
 * decided from Redis (not `degraded`) on both instances within the bound the code sets.
 */
import type { FastifyInstance } from 'fastify'
import { Redis } from 'ioredis'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../src/app.js'
import { AUTH, campaign, policy, testConfig, uniquePrefix } from './helpers/app.js'
import { startRedisServer, type RedisServer } from './helpers/redis-server.js'

const CAP = 3
/** Asks per user: twice the cap, spread over both instances, several at a time. */
const ASKS = 2 * CAP
const file = {
  policy: policy({ caps: [{ id: 'daily', per: 'user', limit: CAP, window: '1d' }] }),
  campaigns: [campaign('a'), campaign('b'), campaign('c')]
}
const candidates = [{ campaignId: 'a' }, { campaignId: 'b' }, { campaignId: 'c' }]

/** The decision store's circuit breaker stays open this long before a trial call (src/redis/user-store: breakerOpenMs). */
const BREAKER_OPEN_MS = 1000
/** The longest wait between two reconnect attempts (src/redis/connection.ts: retryStrategy). */
const RECONNECT_BACKOFF_MAX_MS = 1000
/** How finely recovery is measured: a probe every 10 ms, plus timer lateness on a loaded machine. */
const PROBE_SLACK_MS = 150

interface UserLog { firstSent: number, lastSent: number, asks: number, shows: number, degraded: number }
interface Fault { name: string, startedAt: number, clearedAt: number, recoveredAfterMs: (number | null)[] }

const isDegraded = (body: { candidates: { reason: string }[] }): boolean => body.candidates.some((c) => c.reason === 'degraded')

describe('chaos: Redis restarted, paused and filled to maxmemory under load from two instances', () => {
  let redis: RedisServer
  let admin: Redis
  let apps: FastifyInstance[] = []

  beforeAll(async () => {
    redis = await startRedisServer()
    admin = new Redis(redis.url, { maxRetriesPerRequest: 1, retryStrategy: () => 50 })
    admin.on('error', () => {})
    const keyPrefix = uniquePrefix()
    apps = await Promise.all([0, 1].map(async () => await buildApp(testConfig({
      redis: { url: redis.url, commandTimeoutMs: 300 }, keyPrefix
    }), { policy: file })))
  }, 20_000)

  afterAll(async () => {
    await Promise.all(apps.map(async (a) => await a.close()))
    admin?.disconnect()
    await redis?.stop()
  })

  /** Until both instances have decided a fresh user from Redis: ms from `clearedAt` to the probe's sending, per instance. */
  async function recovery (name: string, clearedAt: number, timeoutMs = 10_000): Promise<(number | null)[]> {
    const found: (number | null)[] = apps.map(() => null)
    const pending: Promise<void>[] = []
    for (let i = 0; found.some((f) => f === null) && Date.now() - clearedAt < timeoutMs; i++) {
      for (const [k, app] of apps.entries()) {
        if (found[k] !== null) continue
        const sentAt = Date.now()
        pending.push(app.inject({
          method: 'POST', url: '/v1/decide', headers: AUTH, payload: { userId: `probe-${name}-${k}-${i}`, placement: 'home', candidates }
        }).then((res) => {
          if (res.statusCode === 200 && !isDegraded(res.json())) {
            const after = sentAt - clearedAt
            if (found[k] === null || after < (found[k] as number)) found[k] = after
          }
        }))
      }
      await sleep(10)
    }
    await Promise.all(pending)
    return found
  }

  it('answers every decide, keeps caps exact for users whose writes were kept, and recovers after each fault', async () => {
    const users = new Map<string, UserLog>()
    const decideStatuses: Record<number, number> = {}
    const eventStatuses: Record<number, number> = {}
    const eventFailures: { sentAt: number, answeredAt: number, status: number, body: string }[] = []
    const faults: Fault[] = []
    const run = { stop: false }
    let n = 0

    const worker = async (): Promise<void> => {
      while (!run.stop) {
        const i = n++
        const userId = `chaos-${Math.floor(i / ASKS)}`
        const sentAt = Date.now()
        const log = users.get(userId) ?? { firstSent: sentAt, lastSent: sentAt, asks: 0, shows: 0, degraded: 0 }
        users.set(userId, log)
        log.lastSent = sentAt
        const res = await apps[i % 2]!.inject({ method: 'POST', url: '/v1/decide', headers: AUTH, payload: { userId, placement: 'home', candidates } })
        decideStatuses[res.statusCode] = (decideStatuses[res.statusCode] ?? 0) + 1
        if (res.statusCode !== 200) continue
        const body = res.json()
        log.asks++
        if (isDegraded(body)) log.degraded++
        if (body.show === null) continue
        log.shows++
        // The client confirms the impression, through the other instance.
        const eventSentAt = Date.now()
        const ev = await apps[(i + 1) % 2]!.inject({
          method: 'POST',
          url: '/v1/events',
          headers: AUTH,
          payload: { events: [{ decisionId: body.decisionId, userId, campaignId: body.show.campaignId, type: 'shown' }] }
        })
        eventStatuses[ev.statusCode] = (eventStatuses[ev.statusCode] ?? 0) + 1
        if (ev.statusCode !== 202) eventFailures.push({ sentAt: eventSentAt, answeredAt: Date.now(), status: ev.statusCode, body: ev.body })
      }
    }

    const during = async (name: string, inject: () => Promise<void>, clear: () => Promise<void>, holdMs: number): Promise<void> => {
      const startedAt = Date.now()
      await inject()
      await sleep(holdMs)
      await clear()
      const clearedAt = Date.now()
      faults.push({ name, startedAt, clearedAt, recoveredAfterMs: await recovery(name, clearedAt) })
      await sleep(1000) // healthy load between faults
    }

    const workers = [0, 1, 2, 3, 4, 5].map(worker)
    await sleep(1000)

    // 1. Restart: SHUTDOWN NOSAVE, down for a second, then a fresh (empty) redis-server on the same port.
    let restartedAt = 0
    await during('restart', async () => {
      await admin.call('SHUTDOWN', 'NOSAVE').catch(() => {}) // the connection closes under the command
      await redis.stop()
    }, async () => {
      await redis.start()
      restartedAt = Date.now()
    }, 1000)

    // 2. Pause: the process stopped (SIGSTOP) for 1.5 s: commands time out, the connection stays up.
    const pid = Number(/process_id:(\d+)/.exec(await admin.info('server'))?.[1])
    expect(pid).toBeGreaterThan(0)
    await during('pause', async () => { process.kill(pid, 'SIGSTOP') }, async () => { process.kill(pid, 'SIGCONT') }, 1500)

    // 3. Full: maxmemory just above what is used, noeviction, filled until Redis refuses writes (OOM).
    const [, maxmemory] = await admin.config('GET', 'maxmemory') as [string, string]
    const [, maxmemoryPolicy] = await admin.config('GET', 'maxmemory-policy') as [string, string]
    let fillers = 0
    await during('maxmemory', async () => {
      const used = Number(/used_memory:(\d+)/.exec(await admin.info('memory'))?.[1])
      await admin.config('SET', 'maxmemory-policy', 'noeviction')
      await admin.config('SET', 'maxmemory', String(used + 512 * 1024))
      for (;;) {
        const refused = await admin.set(`chaos-filler:${fillers++}`, 'x'.repeat(16 * 1024)).then(() => false, (err: Error) => /OOM/.test(err.message))
        if (refused) break
        if (fillers > 10_000) throw new Error('Redis never refused a write: maxmemory not in force')
      }
    }, async () => {
      await admin.config('SET', 'maxmemory', maxmemory)
      await admin.config('SET', 'maxmemory-policy', maxmemoryPolicy)
    }, 1500)
    await admin.del(...Array.from({ length: fillers }, (_, k) => `chaos-filler:${k}`))

    run.stop = true
    await Promise.all(workers)

    const report = JSON.stringify({ decideStatuses, eventStatuses, faults, users: users.size })
    // No crash: both instances still answer, and are ready again (the governance store restored after the restart).
    for (const app of apps) {
      expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200)
      let ready = 0
      for (const deadline = Date.now() + 10_000; ready !== 200 && Date.now() < deadline; await sleep(100)) {
        ready = (await app.inject({ method: 'GET', url: '/readyz' })).statusCode
      }
      expect(ready, 'ready again after the faults').toBe(200)
    }

    // No 5xx from decide, ever: a store fault is answered by onStoreFailure (marketing: degraded).
    expect(Object.keys(decideStatuses), report).toEqual(['200'])
    // Events: 202, or the documented 503 (nothing recorded, send again), and only for a request
    // that overlapped a fault: answered after it began, sent before both instances had recovered.
    for (const f of eventFailures) {
      expect(f.status, f.body).toBe(503)
      expect(JSON.parse(f.body).error, f.body).toBe('unavailable')
      const within = faults.some((fault) => f.answeredAt >= fault.startedAt &&
        f.sentAt <= fault.clearedAt + Math.max(...fault.recoveredAfterMs.map((r) => r ?? Infinity)) + PROBE_SLACK_MS)
      expect(within, `event 503 outside a fault: ${JSON.stringify(f)} ${report}`).toBe(true)
    }

    // Every fault was felt (degraded answers) and cleared within the bound the code sets: the
    // breaker's open time after the last failure; after a restart, also the reconnect backoff.
    const restart = faults.find((f) => f.name === 'restart')!
    for (const fault of faults) {
      const bound = BREAKER_OPEN_MS + (fault.name === 'restart' ? RECONNECT_BACKOFF_MAX_MS : 0) + PROBE_SLACK_MS
      for (const after of fault.recoveredAfterMs) {
        expect(after, `${fault.name}: ${report}`).not.toBeNull()
        expect(after, `${fault.name}: ${report}`).toBeLessThanOrEqual(bound)
      }
      const felt = [...users.values()].filter((u) => u.degraded > 0 && u.firstSent <= fault.clearedAt && u.lastSent >= fault.startedAt)
      expect(felt.length, `${fault.name} was felt: ${report}`).toBeGreaterThan(0)
    }

    // Caps: the restart lost the writes of users asked across it; every other user is within the
    // cap, and one never answered `degraded` (every ask reached Redis) is shown exactly the cap.
    const kept = [...users.entries()].filter(([, u]) => u.asks === ASKS && !(u.firstSent < restartedAt && u.lastSent >= restart.startedAt))
    const over = kept.filter(([, u]) => u.shows > CAP)
    expect(over, report).toEqual([])
    const clean = kept.filter(([, u]) => u.degraded === 0)
    expect(clean.length, report).toBeGreaterThan(20)
    expect(clean.filter(([, u]) => u.shows !== CAP), report).toEqual([])
    expect(kept.filter(([, u]) => u.firstSent > restartedAt).length, 'users first decided after the restart').toBeGreaterThan(20)
  }, 60_000)
})
