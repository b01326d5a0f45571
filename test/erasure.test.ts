/**
 * Erasure costs what the user's own keys cost, however large the keyspace, and each API key
 * may ask only so many a second.
 */
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../src/app.js'
import { parseApiKeys } from '../src/config/api-keys.js'
import { AUTH, campaign, policy, testApp, testConfig, uniquePrefix, type TestApp } from './helpers/app.js'
import { startRedisServer, type RedisServer } from './helpers/redis-server.js'
import { PREFS_AUTH, userControl } from './helpers/user-control.js'

const FILE = { policy: policy({ fatigue: { dismissals: 2, within: '1d', backoff: '7d' } }), campaigns: [campaign('a')] }

describe('erasure on a large keyspace', () => {
  let server: RedisServer
  let admin: Redis
  let t: TestApp
  beforeAll(async () => {
    server = await startRedisServer()
    admin = new Redis(server.url)
    for (let i = 0; i < 50; i++) {
      await admin.mset(Object.fromEntries(Array.from({ length: 1000 }, (_, j) => [`filler:${i}:${j}`, 'x'])))
    }
    const prefix = uniquePrefix()
    const app = await buildApp(testConfig({ redis: { url: server.url, commandTimeoutMs: 1000 }, keyPrefix: prefix }), { policy: FILE })
    t = { app, store: app.store, prefix, decide: async () => ({ status: 0, body: null }), close: () => app.close() }
  })
  afterAll(async () => {
    await t?.close()
    admin?.disconnect()
    await server?.stop()
  })

  it('removes every key of the user, idempotency records included, in one script call and without a SCAN', async () => {
    const api = userControl(t)
    for (const requestId of ['r-1', 'r-2', 'r-3']) {
      const res = await t.app.inject({ method: 'POST', url: '/v1/decide', headers: AUTH, payload: { userId: 'leaving', placement: 'home', requestId, candidates: [{ campaignId: 'a' }] } })
      await api.events([{ decisionId: res.json().decisionId, userId: 'leaving', campaignId: 'a', type: 'dismissed' }])
    }
    await api.putPrefs('leaving', { marketing: 'off' })
    const userKeys = async () => (await admin.keys(`${t.prefix}*`)).filter((k) => !k.includes('{gov}') && !k.includes('{agg}'))
    expect(await userKeys()).toHaveLength(6) // ledger, preferences, fatigue, event log, idempotency records, preference history

    await api.erase('nobody') // the connection's first use of the script sends its body (EVAL); measure the steady state
    await admin.config('RESETSTAT')
    const monitor = await admin.monitor()
    const commands: string[] = []
    // The instance's own background work (the governance revision check, report flushes) is not the erasure's.
    const background = (args: string[]): boolean => args.some((a) => a.includes('{gov}') || a.includes('{agg}'))
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      if (source !== 'lua' && !background(args)) commands.push(String(args[0]).toLowerCase())
    })
    try {
      expect((await api.erase('leaving')).status).toBe(204)
      await new Promise((resolve) => setTimeout(resolve, 100)) // let MONITOR catch up
    } finally {
      monitor.disconnect()
    }
    // One script deletes the keys; the PUBLISH tells every instance's over-limit cache to forget the user.
    expect(commands.filter((c) => c !== 'time')).toEqual(['evalsha', 'publish'])
    expect(await admin.info('commandstats')).not.toMatch(/cmdstat_scan:/)
    expect(await userKeys()).toEqual([])
    expect(await admin.dbsize()).toBeGreaterThanOrEqual(50_000)
    // Erased means as new: the same requestId is decided again, not replayed.
    const after = await t.app.inject({ method: 'POST', url: '/v1/decide', headers: AUTH, payload: { userId: 'leaving', placement: 'home', requestId: 'r-1', candidates: [{ campaignId: 'a' }] } })
    expect(after.json().show).toEqual({ campaignId: 'a' })
  })
})

describe('erasure rate limit', () => {
  let t: TestApp
  const keys = parseApiKeys('app-one:preferences:first-secret-0001,app-two:preferences:second-secret-0002')
  const erase = (secret: string, userId: string) =>
    t.app.inject({ method: 'DELETE', url: `/v1/users/${userId}`, headers: { authorization: `Bearer ${secret}` } })
  beforeAll(async () => { t = await testApp('memory', FILE, { config: { apiKeys: keys, eraseRate: 2 } }) })
  afterAll(async () => { await t?.close() })

  it('answers 429 with Retry-After and the one error shape past the rate of an API key, and not for another key', async () => {
    expect((await erase('first-secret-0001', 'u1')).statusCode).toBe(204)
    expect((await erase('first-secret-0001', 'u2')).statusCode).toBe(204)
    const refused = await erase('first-secret-0001', 'u3')
    expect(refused.statusCode).toBe(429)
    expect(refused.headers['retry-after']).toBe('1')
    expect(refused.json()).toEqual({ error: 'too_many_requests', message: expect.stringContaining('erasure rate') })
    expect((await erase('second-secret-0002', 'u3')).statusCode).toBe(204)
    await new Promise((resolve) => setTimeout(resolve, 600)) // 2 a second: a token is back after 500 ms
    expect((await erase('first-secret-0001', 'u3')).statusCode).toBe(204)
    expect(PREFS_AUTH.authorization).not.toContain('first-secret') // the development key is not one of these
  })
})
