// The cluster harness gives a real Redis Cluster: keys spread over masters, and one script may
// touch several keys only when they share a hash tag (how popguard keeps a user's state together).
import { Redis, type Cluster } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startRedisCluster, type RedisCluster } from './helpers/redis-cluster.js'

describe('Redis Cluster test harness', () => {
  let cluster: RedisCluster
  let client: Cluster

  beforeAll(async () => {
    cluster = await startRedisCluster()
    client = new Redis.Cluster(cluster.nodes)
  }, 20_000)

  afterAll(async () => {
    await client?.quit()
    await cluster?.stop()
  })

  it('starts three masters that share all 16384 slots', async () => {
    expect(cluster.nodes).toHaveLength(3)
    const info = await client.cluster('INFO')
    expect(info).toContain('cluster_state:ok')
    expect(info).toContain('cluster_slots_assigned:16384')
    expect(info).toContain('cluster_known_nodes:3')
  })

  it('stores keys on different masters and reads them back through redirects', async () => {
    const keys = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot']
    for (const key of keys) await client.set(key, `value-${key}`, 'EX', 60)
    for (const key of keys) expect(await client.get(key)).toBe(`value-${key}`)

    const owners = new Set(await Promise.all(keys.map(async (key) => ownerOf(await client.cluster('KEYSLOT', key)))))
    expect(owners.size).toBeGreaterThan(1)
  })

  it('runs one script over two keys of the same hash tag', async () => {
    const script = "redis.call('SET', KEYS[1], ARGV[1]); return redis.call('INCRBY', KEYS[2], ARGV[2])"
    await client.eval(script, 2, '{u:42}:last', '{u:42}:count', 'spring-sale', 3)
    expect(await client.eval(script, 2, '{u:42}:last', '{u:42}:count', 'summer-sale', 2)).toBe(5)
    expect(await client.get('{u:42}:last')).toBe('summer-sale')
  })

  it('refuses a script over keys in different slots', async () => {
    await expect(client.eval("return redis.call('MGET', KEYS[1], KEYS[2])", 2, 'alpha', 'bravo'))
      .rejects.toThrow(/CROSSSLOT/)
  })

  async function ownerOf (slot: number): Promise<number> {
    const ranges = await client.cluster('SLOTS')
    const master = ranges.find(([from, to]) => slot >= from && slot <= to)?.[2]
    if (master === undefined) throw new Error(`slot ${slot} has no owner`)
    return master[1]
  }
})
