/**
 * Redis stopped, slow, and back again: answers keep coming within a few hundred
 * milliseconds, each class gets the policy's onStoreFailure answer, and decisions
 * work again once Redis returns (with an empty script cache).
 */
import { Writable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Redis } from 'ioredis'
import { pino } from 'pino'
import { campaign, policy, testConfig, uniquePrefix, type TestApp } from './helpers/app.js'
import { startRedisServer, type RedisServer } from './helpers/redis-server.js'
import { buildApp } from '../src/app.js'
import { createRedisClient } from '../src/redis/connection.js'
import { RedisStore } from '../src/redis/user-store/redis-user-store.js'

const file = {
  policy: policy({ onStoreFailure: { marketing: 'suppress', service: 'allow', critical: 'allow' } }),
  campaigns: [campaign('promo', { priority: 90 }), campaign('update', { class: 'service', priority: 50 }), campaign('fraud', { class: 'critical', priority: 10 })]
}

describe('when the store fails', () => {
  let server: RedisServer
  let t: TestApp
  let decide: (ids: string[]) => Promise<{ ms: number, body: any, status: number }>
  const warnings: { msg: string, suppressed: number }[] = []

  beforeAll(async () => {
    server = await startRedisServer()
    const store = new RedisStore(createRedisClient({ url: server.url, commandTimeoutMs: 50 }), { keyPrefix: uniquePrefix(), breakerOpenMs: 300, onConnectionError: () => {} })
    const sink = new Writable({
      write (chunk, _enc, done) {
        const line = JSON.parse(String(chunk))
        if (line.level === 40) warnings.push(line)
        done()
      }
    })
    const app = await buildApp(testConfig(), { policy: file, store, logger: pino({ level: 'info' }, sink) })
    t = { app, store, prefix: '', decide: async () => ({ status: 0, body: null }), close: () => app.close() }
    let n = 0
    decide = async (ids) => {
      const started = performance.now()
      const res = await app.inject({
        method: 'POST',
        url: '/v1/decide',
        headers: { authorization: 'Bearer dev-client-key' },
        payload: { userId: `failure-user-${n++}`, placement: 'home', candidates: ids.map((campaignId) => ({ campaignId })) }
      })
      return { ms: performance.now() - started, body: res.json(), status: res.statusCode }
    }
    // The connection's first use of the script sends its body (EVAL): the tests below measure the steady state.
    await decide(['promo'])
  })
  afterAll(async () => {
    await t?.close()
    await server?.stop()
  })

  it('decides normally while Redis answers', async () => {
    const { body } = await decide(['promo', 'update'])
    expect(body.show).toEqual({ campaignId: 'promo' })
  })

  it('suppresses marketing as degraded and still allows service and critical when Redis is down, quickly', async () => {
    await server.stop()
    const started = Date.now()
    for (let i = 0; i < 20; i++) {
      const { ms, body, status } = await decide(['promo', 'update', 'fraud'])
      expect(status).toBe(200)
      expect(ms).toBeLessThan(300)
      expect(body.candidates[0]).toMatchObject({ campaignId: 'promo', allowed: false, reason: 'degraded' })
      expect(body.show).toEqual({ campaignId: 'update' })
    }
    expect((await decide(['promo'])).body.show).toBeNull()
    // 21 degraded decisions, but the outage is warned about at most once a second.
    const outageWarnings = warnings.filter((w) => w.msg.startsWith('store unavailable'))
    expect(outageWarnings.length).toBeGreaterThanOrEqual(1)
    expect(outageWarnings.length).toBeLessThanOrEqual(Math.ceil((Date.now() - started) / 1000) + 1)
  })

  it('answers within the deadline when Redis hangs', async () => {
    await server.start()
    const admin = new Redis(server.url)
    try {
      // Wait for the app's client to reconnect and decide normally again.
      let recovered = false
      for (let i = 0; i < 100 && !recovered; i++) {
        recovered = (await decide(['promo'])).body.show !== null
        if (!recovered) await new Promise((resolve) => setTimeout(resolve, 50))
      }
      expect(recovered).toBe(true)
      await admin.client('PAUSE', 1000, 'ALL')
      const { ms, body } = await decide(['promo', 'fraud'])
      expect(ms).toBeLessThan(300)
      expect(body.candidates[0].reason).toBe('degraded')
      expect(body.show).toEqual({ campaignId: 'fraud' })
    } finally {
      await admin.client('UNPAUSE')
      admin.disconnect()
    }
  })

  it('decides normally again after Redis restarts with an empty script cache', async () => {
    await server.stop()
    await server.start()
    const deadline = Date.now() + 5000
    let body: any
    do {
      await new Promise((resolve) => setTimeout(resolve, 100))
      body = (await decide(['promo'])).body
    } while (body.show === null && Date.now() < deadline)
    expect(body.show).toEqual({ campaignId: 'promo' })
    expect(body.candidates[0].reason).toBe('eligible')
  })
})
