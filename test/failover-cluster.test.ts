/**
 * popguard on a Redis Cluster of three masters with one replica each: a master killed under load
 * from two instances gives no 5xx, and the users on its slots are decided in Redis again once
 * its replica has taken over.
 */
import type { FastifyInstance } from 'fastify'
import { Redis, type Cluster } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../src/app.js'
import { AUTH, campaign, policy, testConfig, uniquePrefix, userTag } from './helpers/app.js'
import { decideThroughFault } from './helpers/failover.js'
import { startRedisCluster, type RedisCluster } from './helpers/redis-cluster.js'

const file = {
  policy: policy({ caps: [{ id: 'daily', per: 'user', limit: 3, window: '1d' }] }),
  campaigns: [campaign('a'), campaign('b'), campaign('c')]
}

describe('popguard on a Redis Cluster with replicas', () => {
  let cluster: RedisCluster
  let admin: Cluster
  let apps: FastifyInstance[] = []

  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 3, replicas: 1, nodeTimeoutMs: 1000 })
    admin = new Redis.Cluster(cluster.nodes)
    const keyPrefix = uniquePrefix()
    apps = await Promise.all([0, 1].map(async () => await buildApp(testConfig({
      redis: { clusterNodes: cluster.nodes, commandTimeoutMs: 200 }, keyPrefix
    }), { policy: file })))
  }, 40_000)

  afterAll(async () => {
    await Promise.all(apps.map(async (a) => await a.close()))
    admin?.disconnect()
    await cluster?.stop()
  })

  /** The master holding a user's keys (they share the hash tag {u:<tag>}). */
  async function masterOf (userId: string): Promise<number> {
    const slot = await admin.cluster('KEYSLOT', `{u:${userTag(userId)}}`) as number
    const range = (await admin.cluster('SLOTS')).find(([from, to]) => slot >= from && slot <= to)
    const port = range?.[2]?.[1]
    if (port === undefined) throw new Error(`slot ${slot} has no master`)
    return port
  }

  it('runs three masters, each with a replica in sync', async () => {
    expect(cluster.nodes).toHaveLength(6)
    expect(await cluster.masters()).toHaveLength(3)
    expect(await admin.cluster('INFO')).toContain('cluster_known_nodes:6')
  })

  it('in strict mode (WAIT after the script, same pipeline) decides with exact caps on the cluster', async () => {
    const strict = await buildApp(testConfig({
      redis: { clusterNodes: cluster.nodes, commandTimeoutMs: 200 }, keyPrefix: uniquePrefix(), waitReplicas: { replicas: 1, timeoutMs: 100 }
    }), { policy: file })
    try {
      for (const userId of ['strict-1', 'strict-2', 'strict-3', 'strict-4']) {
        const answers = await Promise.all(Array.from({ length: 6 }, async () => (await strict.inject({
          method: 'POST', url: '/v1/decide', headers: AUTH, payload: { userId, placement: 'home', candidates: [{ campaignId: 'a' }, { campaignId: 'b' }, { campaignId: 'c' }] }
        })).json()))
        expect(answers.filter((a) => a.candidates.some((c: { reason: string }) => c.reason === 'degraded')), userId).toEqual([])
        expect(answers.filter((a) => a.show !== null)).toHaveLength(3)
      }
    } finally {
      await strict.close()
    }
  })

  it('keeps answering when the master of a user\'s slot is SIGKILLed: no 5xx, and the user is decided in Redis again', async () => {
    const user = 'cluster-failover-user'
    const victim = await masterOf(user)
    const others = ['cluster-other-1', 'cluster-other-2']
    const run = await decideThroughFault(apps, async () => { await cluster.kill(victim) }, { users: [user, ...others], settle: 30, timeoutMs: 25_000 })
    expect(Object.keys(run.statuses), JSON.stringify(run.statuses)).toEqual(['200'])
    expect(run.degraded, 'the fault was felt: decisions answered by onStoreFailure meanwhile').toBeGreaterThan(0)
    expect(run.recoveredAfterMs, JSON.stringify(run)).not.toBeNull()
    const masters = (await cluster.masters()).map((m) => m.port)
    expect(masters).toHaveLength(3)
    expect(masters).not.toContain(victim)
    // The user's slot now lives on the promoted replica, and decisions there reach Redis.
    const answer = await apps[0]!.inject({ method: 'POST', url: '/v1/decide', headers: AUTH, payload: { userId: user, placement: 'home', candidates: [{ campaignId: 'a' }] } })
    expect(answer.statusCode).toBe(200)
    expect(answer.json().candidates[0].reason).not.toBe('degraded')
  }, 40_000)
})
