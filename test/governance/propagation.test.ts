/**
 * Several instances on one Redis: changes made on one are in force on the others within a
 * second; the store, not the file, is the source of truth after the first boot; a broken
 * stored record never replaces the last good one.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { PolicyFile } from '../../src/rules/policy/schema.js'
import { campaign, policy, rawRedis, testApp, uniquePrefix, type TestApp } from '../helpers/app.js'
import { admin, decideFresh, timeUntil } from './helpers.js'

const FILE: PolicyFile = { policy: policy(), campaigns: [campaign('spring'), campaign('loans', { category: 'loans' })] }
const BOUND_MS = 1000

describe('governance across instances (redis)', () => {
  const apps: TestApp[] = []
  afterEach(async () => {
    await Promise.all(apps.map((a) => a.close()))
    apps.length = 0
  })
  async function instance (prefix: string, file = FILE, overwrite = false): Promise<TestApp> {
    const t = await testApp('redis', file, { prefix, config: { policyOverwrite: overwrite } })
    apps.push(t)
    return t
  }

  it('puts a campaign created, a policy changed and a campaign suspended on one instance in force on another within 1 s', async () => {
    const prefix = uniquePrefix()
    const [a, b] = [await instance(prefix), await instance(prefix)]

    expect((await admin(a, 'PUT', '/v1/campaigns/autumn', campaign('autumn', { priority: 90 }))).status).toBe(201)
    const created = await timeUntil(async () => (await decideFresh(b, ['spring', 'autumn'])).show?.campaignId === 'autumn')

    expect((await admin(a, 'PUT', '/v1/policy', { ...FILE.policy, doNotInterrupt: ['browsing'] })).status).toBe(200)
    const changed = await timeUntil(async () => {
      const answer = await decideFresh(b, ['spring'], { context: { activity: 'browsing' } })
      return answer.policyVersion === 2 && answer.candidates[0].reason === 'do_not_interrupt'
    })

    expect((await admin(a, 'POST', '/v1/campaigns/spring/penalties', { action: 'suspend', reason: 'aggressive copy' })).status).toBe(200)
    const suspended = await timeUntil(async () => (await decideFresh(b, ['spring'])).candidates[0].reason === 'campaign_inactive')

    console.log(`propagation to another instance: campaign ${created.toFixed(1)} ms, policy ${changed.toFixed(1)} ms, suspension ${suspended.toFixed(1)} ms`)
    expect(created).toBeLessThan(BOUND_MS)
    expect(changed).toBeLessThan(BOUND_MS)
    expect(suspended).toBeLessThan(BOUND_MS)
  })

  it('never issues one policy version twice when two instances write at once', async () => {
    const prefix = uniquePrefix()
    const [a, b] = [await instance(prefix), await instance(prefix)]
    // `If-Match: *`: each writer means to win whatever is there, so only the store's own compare-and-set decides.
    const writes = Array.from({ length: 8 }, (_, i) => admin(i % 2 === 0 ? a : b, 'PUT', '/v1/policy', { ...FILE.policy, cooldown: `${i + 1}m` }, { 'if-match': '*' }))
    const results = await Promise.all(writes)
    const ok = results.filter((r) => r.status === 200)
    // Under contention a write may give up with 409 after its retries; none may reuse a version.
    expect(results.every((r) => r.status === 200 || r.status === 409)).toBe(true)
    const versions = ok.map((r) => r.body.version as number)
    expect(new Set(versions).size).toBe(versions.length)
    const history = await admin(a, 'GET', '/v1/policy/history?limit=50')
    expect(history.body.items.map((h: any) => h.version)).toEqual(Array.from({ length: ok.length + 1 }, (_, i) => ok.length + 1 - i))
  })

  it('catches a change whose message it missed by the periodic revision check', async () => {
    const prefix = uniquePrefix()
    const a = await instance(prefix)
    const redis = rawRedis()
    try {
      // Written behind the API's back, with no message published: only the periodic check can see it.
      const record = { campaign: campaign('silent', { priority: 99 }), updatedAt: new Date().toISOString(), updatedBy: 'test' }
      await redis.hset(`${prefix}{gov}:campaigns`, 'silent', JSON.stringify(record))
      await redis.incr(`${prefix}{gov}:rev`)
      const seen = await timeUntil(async () => (await decideFresh(a, ['spring', 'silent'])).show?.campaignId === 'silent', 6000)
      expect(seen).toBeLessThan(2000 + 500)
    } finally {
      redis.disconnect()
    }
  })

  it('keeps the last good policy and campaign when a stored record is invalid, and counts it', async () => {
    const prefix = uniquePrefix()
    const a = await instance(prefix)
    const redis = rawRedis()
    try {
      const stored = JSON.parse(await redis.hget(`${prefix}{gov}:policy`, 'current') as string)
      await redis.hset(`${prefix}{gov}:policy`, 'current', JSON.stringify({ ...stored, version: 7, document: { ...stored.document, caps: 'lots' } }))
      await redis.hset(`${prefix}{gov}:campaigns`, 'spring', '{not json')
      await redis.publish(`${prefix}{gov}:changed`, String(await redis.incr(`${prefix}{gov}:rev`)))
      await timeUntil(async () => a.app.policy.rejectedRecords >= 2)
      expect(a.app.policy.lastRejection?.record).toMatch(/^(policy|campaign:spring)$/)
      const metrics = (await a.app.inject('/metrics')).body
      expect(metrics).toMatch(/^popguard_policy_rejected_records_total [1-9]/m)
      const answer = await decideFresh(a, ['spring'])
      expect(answer.policyVersion).toBe(1)
      expect(answer.show).toEqual({ campaignId: 'spring' })
    } finally {
      redis.disconnect()
    }
  })

  /** An instance changes the stored policy (v2) and stops; another starts with a different file. */
  async function restartWithOtherFile (overwrite: boolean): Promise<{ second: TestApp, other: PolicyFile }> {
    const prefix = uniquePrefix()
    const first = await instance(prefix)
    await admin(first, 'PUT', '/v1/policy', { ...FILE.policy, cooldown: '5m' })
    await first.close()
    apps.length = 0
    const other: PolicyFile = { policy: policy({ mode: 'shadow' }), campaigns: [campaign('from-new-file')] }
    return { second: await instance(prefix, other, overwrite), other }
  }

  it('keeps the stored policy across a restart with a different policy file, unless told to overwrite', async () => {
    const { second } = await restartWithOtherFile(false)
    const kept = await admin(second, 'GET', '/v1/policy')
    expect(kept.body).toMatchObject({ version: 2, document: { cooldown: '5m', mode: 'enforce' } })
    expect((await decideFresh(second, ['from-new-file'])).candidates[0].reason).toBe('campaign_unknown')
    expect((await decideFresh(second, ['spring'])).policyVersion).toBe(2)
  })
  it('replaces the stored policy with the file when POPGUARD_POLICY_OVERWRITE is set, as a new audited version', async () => {
    const { second, other } = await restartWithOtherFile(true)
    expect((await admin(second, 'GET', '/v1/policy')).body).toMatchObject({ version: 3, document: other.policy })
    expect((await decideFresh(second, ['from-new-file'])).show).toEqual({ campaignId: 'from-new-file' })
    const audit = await admin(second, 'GET', '/v1/audit?limit=1')
    expect(audit.body.items[0]).toMatchObject({ action: 'policy.seed', by: 'boot', reason: 'POPGUARD_POLICY_OVERWRITE=true', after: { version: 3 } })
  })
})
