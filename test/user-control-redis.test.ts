/**
 * What only a real Redis can show: racing decisions and discards from two instances
 * never overshoot a cap, and erasure finds every key of a user in a Redis Cluster.
 */
import { Writable } from 'node:stream'
import { Redis } from 'ioredis'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../src/app.js'
import { createRedisClient } from '../src/redis/connection.js'
import { RedisStore } from '../src/redis/user-store/redis-user-store.js'
import { decodeLedger } from '../src/redis/user-store/ledger-codec.js'
import { AUTH, campaign, policy, rawRedis, testApp, testConfig, uniquePrefix, userTag, type TestApp } from './helpers/app.js'
import { startRedisCluster, type RedisCluster } from './helpers/redis-cluster.js'
import { PREFS_AUTH, userControl } from './helpers/user-control.js'

const CAP = 3
const FILE = { policy: policy({ caps: [{ id: 'daily', per: 'user', limit: CAP, window: '1d' }] }), campaigns: [campaign('a'), campaign('b')] }

describe('events and decisions racing on one user (redis)', () => {
  it('100 concurrent decides and discards from two instances never exceed the cap', async () => {
    const prefix = uniquePrefix()
    const instances = [await testApp('redis', FILE, { prefix }), await testApp('redis', FILE, { prefix })]
    const redis = rawRedis()
    try {
      let allowed = 0
      let discarded = 0
      let confirmed = 0
      // Slots the client knows to be held: a discard is subtracted before it is sent, so this is
      // never more than Redis holds; above the cap, Redis would have overshot.
      let held = 0
      let maxHeld = 0
      let givers = 0 // tasks that gave their slot back or gave up
      await Promise.all(Array.from({ length: 100 }, async (_, i) => {
        const t = instances[i % 2] as TestApp
        const api = userControl(t)
        // Four tasks keep the slot they get (one more than the cap); the rest give theirs back (not rendered).
        const keeper = i % 25 === 1
        // Keepers join once slots have changed hands many times, then race the rest.
        const othersBusy = (): boolean => discarded < 60 && givers < 96
        if (keeper) while (othersBusy()) await new Promise((resolve) => setTimeout(resolve, 2))
        for (let attempt = 0; attempt < 200; attempt++) {
          const { body } = await t.decide({ userId: 'racer', placement: 'home', candidates: [{ campaignId: i % 3 === 0 ? 'a' : 'b' }] })
          if (body.show === null) {
            await new Promise((resolve) => setTimeout(resolve, Math.random() * 5))
            continue
          }
          allowed++
          maxHeld = Math.max(maxHeld, ++held)
          const type = keeper ? 'shown' : 'discarded'
          if (!keeper) held--
          const res = await api.events([{ decisionId: body.decisionId, userId: 'racer', campaignId: body.show.campaignId, type }])
          expect(res.body).toEqual({ accepted: 1, rejected: [] })
          if (keeper) confirmed++
          else discarded++
          break
        }
        if (!keeper) givers++
      }))
      const ledger = decodeLedger(await redis.get(`${prefix}{u:${userTag('racer')}}:l`) ?? '')
      expect(confirmed).toBeLessThanOrEqual(CAP)
      expect(ledger.length).toBeLessThanOrEqual(CAP)
      expect(ledger.filter((r) => r.state === 'c')).toHaveLength(confirmed)
      expect(allowed - discarded).toBe(ledger.length) // every slot given out is either given back or still held
      expect(maxHeld).toBeLessThanOrEqual(CAP)
      expect(discarded).toBeGreaterThan(50) // slots really changed hands, many times
    } finally {
      redis.disconnect()
      for (const t of instances) await t.close()
    }
  })

  it('logs one line per event batch, with counts and no user ids', async () => {
    const lines: any[] = []
    const stream = new Writable({ write (chunk, _enc, done) { lines.push(JSON.parse(String(chunk))); done() } })
    const t = await testApp('redis', FILE, { logger: pino({ level: 'info' }, stream) })
    try {
      const api = userControl(t)
      const d = (await t.decide({ userId: 'secret-user@example.com', placement: 'home', candidates: [{ campaignId: 'a' }] })).body
      const e = { decisionId: d.decisionId, userId: 'secret-user@example.com', campaignId: 'a' }
      await api.events([{ ...e, type: 'shown' }, { ...e, type: 'shown' }, { ...e, type: 'dismissed' }])
      await api.putPrefs('secret-user@example.com', { marketing: 'off' })
      await api.erase('secret-user@example.com')
      const batches = lines.filter((l) => l.event === 'events')
      expect(batches).toHaveLength(1)
      expect(batches[0]).toMatchObject({ received: 3, users: 1, byType: { shown: 2, dismissed: 1 }, byOutcome: { accepted: 2, duplicate: 1 } })
      expect(lines.filter((l) => l.event === 'preferences' || l.event === 'erasure')).toHaveLength(2)
      expect(JSON.stringify(lines)).not.toContain('secret-user')
    } finally {
      await t.close()
    }
  })
})

/** SCAN calls served by all the cluster's nodes so far (INFO commandstats). */
async function scanCalls (cluster: RedisCluster): Promise<number> {
  let calls = 0
  for (const node of cluster.nodes) {
    const redis = new Redis(node)
    try {
      calls += Number(/cmdstat_scan:calls=(\d+)/.exec(await redis.info('commandstats'))?.[1] ?? 0)
    } finally {
      redis.disconnect()
    }
  }
  return calls
}

describe('erasure in a Redis Cluster', () => {
  let cluster: RedisCluster
  beforeAll(async () => { cluster = await startRedisCluster() }, 30_000)
  afterAll(async () => { await cluster?.stop() })

  it('removes every key of the user, idempotency records included, without a SCAN', async () => {
    const prefix = uniquePrefix()
    const store = new RedisStore(createRedisClient({ clusterNodes: cluster.nodes, commandTimeoutMs: 1000 }), { keyPrefix: prefix, onConnectionError: () => {} })
    const app = await buildApp(testConfig(), { policy: FILE, store })
    const users = ['alice', 'bob', 'carol', 'dave']
    try {
      for (const userId of users) {
        for (const requestId of ['r1', 'r2', 'r3']) {
          const res = await app.inject({ method: 'POST', url: '/v1/decide', headers: AUTH, payload: { userId, placement: 'home', requestId, candidates: [{ campaignId: 'a' }] } })
          expect(res.statusCode).toBe(200)
        }
        await app.inject({ method: 'PUT', url: `/v1/users/${userId}/preferences`, headers: PREFS_AUTH, payload: { marketing: 'off' } })
      }
      const keysOf = async (userId: string): Promise<string[]> => {
        const found: string[] = []
        for (const node of cluster.nodes) {
          const redis = new Redis(node)
          try { found.push(...await redis.keys(`${prefix}{u:${userTag(userId)}}:*`)) } finally { redis.disconnect() }
        }
        return found
      }
      expect(await keysOf('carol')).toHaveLength(4) // ledger, preferences, the hash of three idempotency records, preference history
      const scans = await scanCalls(cluster)
      const erased = await app.inject({ method: 'DELETE', url: '/v1/users/carol', headers: PREFS_AUTH })
      expect(erased.statusCode).toBe(204)
      expect(await keysOf('carol')).toEqual([])
      expect(await scanCalls(cluster)).toBe(scans) // the user's keys are known by name: nothing is searched for
      for (const other of users.filter((u) => u !== 'carol')) expect(await keysOf(other)).toHaveLength(4)
    } finally {
      await app.close()
    }
  })
})
