/**
 * Racing decisions for one user, from two app instances sharing one store: the cap
 * holds exactly, on a standalone Redis and on a real Redis Cluster.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../src/app.js'
import { createRedisClient } from '../src/redis/connection.js'
import { RedisStore } from '../src/redis/user-store/redis-user-store.js'
import { AUTH, campaign, policy, redisStore, testConfig, uniquePrefix } from './helpers/app.js'
import { startRedisCluster, type RedisCluster } from './helpers/redis-cluster.js'
import type { Store } from '../src/store/user-store.js'

const file = {
  policy: policy({ caps: [{ id: 'daily', per: 'user', limit: 3, window: '1d' }] }),
  campaigns: [campaign('a'), campaign('b'), campaign('c')]
}

async function raceTwoInstances (makeStore: () => Store, userId: string, requests: number): Promise<number> {
  const apps = await Promise.all([0, 1].map(() => buildApp(testConfig(), { policy: file, store: makeStore() })))
  try {
    const answers = await Promise.all(Array.from({ length: requests }, (_, i) =>
      apps[i % 2]!.inject({
        method: 'POST',
        url: '/v1/decide',
        headers: AUTH,
        payload: { userId, placement: 'home', candidates: [{ campaignId: 'a' }, { campaignId: 'b' }, { campaignId: 'c' }] }
      })))
    for (const a of answers) expect(a.statusCode).toBe(200)
    const bodies = answers.map((a) => a.json())
    for (const b of bodies) expect(b.candidates.some((c: any) => c.reason === 'degraded')).toBe(false)
    return bodies.filter((b) => b.show !== null).length
  } finally {
    await Promise.all(apps.map((a) => a.close()))
  }
}

describe('concurrent decisions for one user', () => {
  it('allow exactly the cap from two instances on one Redis (200 requests, cap 3)', async () => {
    const prefix = uniquePrefix()
    expect(await raceTwoInstances(() => redisStore(prefix, undefined, 2000), 'racer-1', 200)).toBe(3)
  })

  describe('on a real Redis Cluster', () => {
    let cluster: RedisCluster
    beforeAll(async () => { cluster = await startRedisCluster() }, 30_000)
    afterAll(async () => { await cluster?.stop() })

    it('allow exactly the cap from two instances (200 requests, cap 3), for each of three users', async () => {
      const prefix = uniquePrefix()
      const makeStore = (): Store => new RedisStore(createRedisClient({ clusterNodes: cluster.nodes, commandTimeoutMs: 2000 }), { keyPrefix: prefix, timeoutMs: 2000, onConnectionError: () => {} })
      for (const userId of ['cluster-user-1', 'cluster-user-2', 'cluster-user-3']) {
        expect(await raceTwoInstances(makeStore, userId, 200)).toBe(3)
      }
    })
  })
})
