// The governance store on a real Redis Cluster: its keys share one hash tag, so the commit
// script and the snapshot MULTI work there, and a change message reaches a subscriber
// connected to another node.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RedisGovernanceStore } from '../../src/redis/governance/redis-governance-store.js'
import { campaign } from '../helpers/app.js'
import { startRedisCluster, type RedisCluster } from '../helpers/redis-cluster.js'
import { timeUntil } from './helpers.js'

describe('governance store on Redis Cluster', () => {
  let cluster: RedisCluster
  const stores: RedisGovernanceStore[] = []
  beforeAll(async () => { cluster = await startRedisCluster() }, 20_000)
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()))
    await cluster?.stop()
  })
  const open = (): RedisGovernanceStore => {
    const s = new RedisGovernanceStore({ clusterNodes: cluster.nodes, commandTimeoutMs: 2000 }, { keyPrefix: 'pg:ct:' })
    stores.push(s)
    return s
  }

  it('commits, compares-and-sets, reads a snapshot and tells other instances', async () => {
    const [writer, reader] = [open(), open()]
    const heard: number[] = []
    await reader.onChange((revision) => heard.push(revision))
    const record = JSON.stringify({ campaign: campaign('a'), updatedAt: new Date().toISOString(), updatedBy: 'test' })
    const entry = { at: new Date().toISOString(), by: 'test', action: 'campaign.create' as const, target: 'campaign:a', reason: null, before: null, after: null, changes: [] }
    expect(await writer.commit({ writes: [{ table: 'campaigns', id: 'a', expect: '', value: record }], audit: [entry] })).toBe(true)
    expect(await writer.commit({ writes: [{ table: 'campaigns', id: 'a', expect: '', value: record }], audit: [entry] })).toBe(false)

    const snapshot = await reader.snapshot()
    expect(snapshot.revision).toBe(1)
    expect(snapshot.campaigns.get('a')).toBe(record)
    expect((await reader.audit(0, 10)).items).toHaveLength(1)
    await timeUntil(async () => heard.includes(1), 3000)
  })
})
