/**
 * popguard on Redis with Sentinel (one master, one replica, three sentinels), configured as an
 * operator would (REDIS_SENTINELS, REDIS_SENTINEL_NAME): exact caps from two instances, and a
 * master killed under load: no 5xx, and decisions reach Redis again on the promoted replica.
 */
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config/config.js'
import { AUTH, campaign, policy, testConfig, uniquePrefix } from './helpers/app.js'
import { decideThroughFault } from './helpers/failover.js'
import { eventually } from './helpers/metrics.js'
import { startRedisSentinel, type RedisSentinel } from './helpers/redis-sentinel.js'

const file = {
  policy: policy({ caps: [{ id: 'daily', per: 'user', limit: 3, window: '1d' }] }),
  campaigns: [campaign('a'), campaign('b'), campaign('c')]
}

async function shows (apps: FastifyInstance[], userId: string, requests: number): Promise<number> {
  const answers = await Promise.all(Array.from({ length: requests }, async (_, i) => await apps[i % 2]!.inject({
    method: 'POST', url: '/v1/decide', headers: AUTH, payload: { userId, placement: 'home', candidates: [{ campaignId: 'a' }, { campaignId: 'b' }, { campaignId: 'c' }] }
  })))
  for (const a of answers) expect(a.statusCode).toBe(200)
  for (const a of answers) expect(a.json().candidates.some((c: { reason: string }) => c.reason === 'degraded'), a.body).toBe(false)
  return answers.filter((a) => a.json().show !== null).length
}

describe('popguard on Redis with Sentinel', () => {
  let sentinel: RedisSentinel
  let apps: FastifyInstance[] = []

  beforeAll(async () => {
    sentinel = await startRedisSentinel({ downAfterMs: 1000 })
    const env = { REDIS_SENTINELS: sentinel.sentinels.map((s) => `${s.host}:${s.port}`).join(','), REDIS_SENTINEL_NAME: sentinel.name }
    const redis = loadConfig(env).redis
    const keyPrefix = uniquePrefix()
    apps = await Promise.all([0, 1].map(async () => await buildApp(testConfig({ redis, keyPrefix }), { policy: file })))
  }, 40_000)

  afterAll(async () => {
    await Promise.all(apps.map(async (a) => await a.close()))
    await sentinel?.stop()
  })

  it('reports the store as Redis and allows exactly the cap from two instances (200 racing decides, cap 3)', async () => {
    expect((await apps[0]!.inject('/readyz')).json()).toMatchObject({ status: 'ready', store: 'redis' })
    expect(await shows(apps, 'sentinel-racer', 200)).toBe(3)
  })

  it('in strict mode answers a decision only once a replica has it (WAIT), else by onStoreFailure', async () => {
    const strict = async (replicas: number): Promise<FastifyInstance> => await buildApp(testConfig({
      redis: apps[0]!.config.redis, keyPrefix: uniquePrefix(), waitReplicas: { replicas, timeoutMs: 30 }
    }), { policy: file })
    const one = await strict(1)
    const two = await strict(2) // there is one replica: WAIT 2 times out
    try {
      expect(await shows([one, one], 'strict-user', 10)).toBe(3)
      const answer = (await two.inject({ method: 'POST', url: '/v1/decide', headers: AUTH, payload: { userId: 'strict-2', placement: 'home', candidates: [{ campaignId: 'a' }] } })).json()
      expect(answer.show).toBeNull()
      expect(answer.candidates[0].reason).toBe('degraded')
    } finally {
      await Promise.all([one.close(), two.close()])
    }
  })

  it('keeps answering through a failover (master SIGKILLed): no 5xx, and decisions reach Redis again', async () => {
    const before = await sentinel.master()
    const run = await decideThroughFault(apps, sentinel.killMaster, { users: ['sentinel-load-1', 'sentinel-load-2', 'sentinel-load-3'] })
    expect(Object.keys(run.statuses), JSON.stringify(run.statuses)).toEqual(['200'])
    expect(run.degraded, 'the fault was felt: decisions answered by onStoreFailure meanwhile').toBeGreaterThan(0)
    expect(run.recoveredAfterMs, JSON.stringify(run)).not.toBeNull()
    // Sentinels learn of the failover from its leader within a moment: ask until they agree.
    await eventually('the sentinels name the promoted replica', async () => (await sentinel.master()).port !== before.port)
    // The promoted replica takes writes: a new user's cap is exact again.
    expect(await shows(apps, 'sentinel-after-failover', 20)).toBe(3)
  }, 40_000)
})
