import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../src/app.js'
import { createRedisClient } from '../src/redis/connection.js'
import { RedisStore } from '../src/redis/user-store/redis-user-store.js'
import { AUTH, campaign, policy, testConfig } from './helpers/app.js'
import { startRedisServer, type RedisServer } from './helpers/redis-server.js'

describe('Redis round trips', () => {
  let server: RedisServer
  beforeAll(async () => { server = await startRedisServer() })
  afterAll(async () => { await server.stop() })

  it('makes exactly one Redis call per decision (EVALSHA)', async () => {
    const store = new RedisStore(createRedisClient({ url: server.url, commandTimeoutMs: 1000 }))
    const app = await buildApp(testConfig(), {
      store,
      policy: { policy: policy({ caps: [{ id: 'daily', per: 'user', limit: 3, window: '1d' }], cooldown: '1m' }), campaigns: [campaign('a'), campaign('b')] }
    })
    const admin = new Redis(server.url)
    const monitor = await admin.monitor()
    const fromClients: string[] = []
    // MONITOR marks the commands a script runs inside Redis with source "lua": those are no round trips.
    monitor.on('monitor', (_time: string, args: string[], source: string) => { if (source !== 'lua') fromClients.push(String(args[0]).toLowerCase()) })
    try {
      // The first call loads the script (EVALSHA, NOSCRIPT, EVAL); measure the steady state after it.
      await app.inject({ method: 'POST', url: '/v1/decide', headers: AUTH, payload: { userId: 'warm', placement: 'home', candidates: [{ campaignId: 'a' }] } })
      // The store reads Redis's clock (TIME) until it has a sample, then every 10 s: not per decision.
      while (store.clock.offsetMs === null) await store.ping()
      await new Promise((resolve) => setTimeout(resolve, 100))
      fromClients.length = 0
      const decisions = 25
      for (let i = 0; i < decisions; i++) {
        await app.inject({ method: 'POST', url: '/v1/decide', headers: AUTH, payload: { userId: `rt-${i % 5}`, placement: 'home', candidates: [{ campaignId: 'a' }, { campaignId: 'b' }] } })
      }
      await new Promise((resolve) => setTimeout(resolve, 100)) // let MONITOR catch up
      expect(fromClients).toEqual(Array(decisions).fill('evalsha'))
    } finally {
      monitor.disconnect()
      admin.disconnect()
      await app.close()
    }
  })

  it('gives every key it writes a TTL', async () => {
    const store = new RedisStore(createRedisClient({ url: server.url, commandTimeoutMs: 1000 }), { keyPrefix: 'pg:ttl:' })
    const app = await buildApp(testConfig(), { store, policy: { policy: policy(), campaigns: [campaign('a')] } })
    const admin = new Redis(server.url)
    try {
      for (let i = 0; i < 10; i++) {
        await app.inject({ method: 'POST', url: '/v1/decide', headers: AUTH, payload: { userId: `ttl-${i}`, placement: 'home', candidates: [{ campaignId: 'a' }], requestId: `r-${i}` } })
      }
      const keys = await admin.keys('pg:ttl:*')
      expect(keys.length).toBe(20) // a ledger and an idempotency record per user
      for (const key of keys) expect(await admin.pttl(key)).toBeGreaterThan(0)
    } finally {
      admin.disconnect()
      await app.close()
    }
  })
})
