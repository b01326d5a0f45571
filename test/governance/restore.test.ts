/**
 * Redis loses its data (restarted empty, or from an older copy): every instance keeps serving
 * the configuration it loaded, exactly one of them writes it back, /readyz and the metrics say
 * what is going on meanwhile, and a critical campaign is never unknown.
 */
import { readFileSync } from 'node:fs'
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import type { PolicyFile } from '../../src/rules/policy/schema.js'
import { campaign, policy, rawRedis, testApp, uniquePrefix, type TestApp, type TestAppOptions } from '../helpers/app.js'
import { eventually, scrape } from '../helpers/metrics.js'
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js'
import { admin, decideFresh, sleep, timeUntil } from './helpers.js'

const FILE: PolicyFile = {
  policy: policy(),
  campaigns: [campaign('fraud-risk', { class: 'critical', priority: 100 }), campaign('spring'), campaign('loans', { category: 'loans' })]
}
const CHECK_MS = 200
/** A Redis that answers reads but refuses every write: the gap before a restore, held open. */
const REFUSE_WRITES = ['--min-replicas-to-write', '1']
const WATCHED = ['fraud-risk', 'spring', 'autumn']

interface Stored { revision: number, policy: any, campaigns: string[], penalties: string[] }

async function stored (redis: Redis, prefix: string): Promise<Stored> {
  const [revision, policyRaw, campaigns, penalties] = await Promise.all([
    redis.get(`${prefix}{gov}:rev`), redis.hget(`${prefix}{gov}:policy`, 'current'),
    redis.hkeys(`${prefix}{gov}:campaigns`), redis.hkeys(`${prefix}{gov}:penalties`)
  ])
  return { revision: Number(revision ?? 0), policy: policyRaw === null ? null : JSON.parse(policyRaw), campaigns: campaigns.sort(), penalties: penalties.sort() }
}

async function readyz (t: TestApp): Promise<{ status: number, body: any }> {
  const res = await t.app.inject('/readyz')
  return { status: res.statusCode, body: res.json() }
}

const loops = new Set<() => Promise<void>>()

/** Decides for WATCHED on every instance until stopped (at the latest after the test); every answer kept. */
function decideMeanwhile (apps: TestApp[]): { answers: any[], stop: () => Promise<void> } {
  const answers: any[] = []
  const state = { running: true }
  const loop = (async () => {
    while (state.running) {
      for (const t of apps) answers.push(await decideFresh(t, WATCHED))
      await sleep(10)
    }
  })()
  const stop = async (): Promise<void> => {
    state.running = false
    loops.delete(stop)
    await loop
  }
  loops.add(stop)
  return { answers, stop }
}

function verdicts (answers: any[], campaignId: string): string[] {
  return [...new Set(answers.map((a) => a.candidates.find((c: any) => c.campaignId === campaignId).reason as string))].sort()
}

async function restoresCounted (apps: TestApp[]): Promise<number> {
  let sum = 0
  for (const t of apps) sum += (await scrape(t.app)).value('popguard_governance_restores_total')
  return sum
}

/** Run-time changes the policy file does not know: policy version 2, a new campaign, a suspension. */
async function changeAtRunTime (a: TestApp, b: TestApp): Promise<void> {
  expect((await admin(a, 'PUT', '/v1/policy', { ...FILE.policy, doNotInterrupt: ['checkout'] })).status).toBe(200)
  expect((await admin(a, 'PUT', '/v1/campaigns/autumn', campaign('autumn', { priority: 90 }))).status).toBe(201)
  expect((await admin(a, 'POST', '/v1/campaigns/spring/penalties', { action: 'suspend', reason: 'aggressive copy' })).status).toBe(200)
  await timeUntil(async () => {
    const answer = await decideFresh(b, WATCHED)
    return answer.policyVersion === 2 && answer.candidates.map((c: any) => c.reason).join() === 'eligible,campaign_inactive,lower_priority'
  })
}

/** What the store must hold again after a restore: the run-time configuration, at a revision past the lost one. */
async function expectRestored (redis: Redis, prefix: string, lostRevision: number): Promise<void> {
  const now = await stored(redis, prefix)
  expect(now.policy).toMatchObject({ version: 2, document: { doNotInterrupt: ['checkout'] }, updatedBy: 'dev-admin' })
  expect(now.campaigns).toEqual(['autumn', 'fraud-risk', 'loans', 'spring'])
  expect(now.penalties).toEqual(['spring'])
  expect(now.revision).toBeGreaterThan(lostRevision)
}

async function expectOneRestoreAudited (t: TestApp): Promise<void> {
  const audit = await admin(t, 'GET', '/v1/audit?limit=200')
  const restores = audit.body.items.filter((e: any) => e.action === 'governance.restore')
  expect(restores).toHaveLength(1)
  expect(restores[0]).toMatchObject({ by: 'restore', target: 'governance', after: { policyVersion: 2, campaigns: 4, penalties: 1 } })
  expect(restores[0].reason).toMatch(/cannot be restored/)
}

describe('governance when Redis loses its data', () => {
  let server: RedisServer
  const apps: TestApp[] = []
  beforeAll(async () => { server = await startRedisServer() })
  afterAll(async () => { await server?.stop() })
  afterEach(async () => {
    await Promise.allSettled([...loops].map((stop) => stop()))
    await Promise.all(apps.map((t) => t.close()))
    apps.length = 0
  })
  async function instance (prefix: string, opts: TestAppOptions = {}): Promise<TestApp> {
    const t = await testApp('redis', FILE, { prefix, redisUrl: server.url, checkEveryMs: CHECK_MS, ...opts })
    apps.push(t)
    return t
  }
  async function onServer<T> (fn: (redis: Redis) => Promise<T>): Promise<T> {
    const redis = new Redis(server.url)
    try {
      return await fn(redis)
    } finally {
      redis.disconnect()
    }
  }

  it('restarted empty: both instances keep serving, /readyz says so, then exactly one restores the run-time configuration', async () => {
    const prefix = uniquePrefix()
    const [a, b] = [await instance(prefix), await instance(prefix)]
    await changeAtRunTime(a, b)
    const lost = await onServer(async (r) => await stored(r, prefix))
    expect((await readyz(a)).body).toMatchObject({ status: 'ready', governance: 'in_step', policyVersion: 2 })

    const down = decideMeanwhile([a, b])
    await server.stop()
    await sleep(300)
    await down.stop()
    // Back empty, refusing writes for now: nobody can restore, and the instances must say so.
    await server.start(REFUSE_WRITES)
    for (const t of [a, b]) {
      await eventually('/readyz says the stored configuration is being restored', async () => {
        const r = await readyz(t)
        return r.status === 200 && r.body.governance === 'restoring'
      }, 5000)
      expect((await readyz(t)).body).toEqual({ status: 'ready', store: 'redis', policyVersion: 2, governance: 'restoring' })
      expect((await scrape(t.app)).value('popguard_governance_in_step')).toBe(0)
      expect((await admin(t, 'GET', '/v1/policy')).status).toBe(503)
    }
    const gap = [await decideFresh(a, WATCHED), await decideFresh(b, WATCHED)]
    expect(await onServer(async (r) => (await stored(r, prefix)).policy)).toBeNull()

    const up = decideMeanwhile([a, b])
    await onServer(async (r) => await r.config('SET', 'min-replicas-to-write', '0'))
    const restoredMs = await timeUntil(async () => (await onServer(async (r) => (await stored(r, prefix)).policy)) !== null, 5000)
    await sleep(3 * CHECK_MS) // both instances check again: a second restore would show now
    await up.stop()
    console.log(`configuration back in Redis ${restoredMs.toFixed(0)} ms after it accepted writes again`)

    const answers = [...down.answers, ...gap, ...up.answers]
    expect(answers.length).toBeGreaterThan(10)
    expect(verdicts(answers, 'fraud-risk')).toEqual(['eligible'])
    expect(verdicts(answers, 'spring')).toEqual(['campaign_inactive'])
    expect(verdicts(answers, 'autumn')).not.toContain('campaign_unknown')
    await onServer(async (r) => { await expectRestored(r, prefix, lost.revision) })
    await expectOneRestoreAudited(a)
    expect(await restoresCounted([a, b])).toBe(1)
    for (const t of [a, b]) {
      await eventually('/readyz in step again', async () => (await readyz(t)).body.governance === 'in_step', 3000)
      expect((await scrape(t.app)).value('popguard_governance_in_step')).toBe(1)
      const read = await admin(t, 'GET', '/v1/policy')
      expect(read.status).toBe(200)
      expect(read.body.version).toBe(2)
    }
    const history = await admin(b, 'GET', '/v1/policy/history')
    expect(history.body.items.map((h: any) => [h.version, h.by])).toEqual([[2, 'restore']])
  })

  it('restarted empty with decisions running: the configuration is back within a few checks, restored once, no decision lost a campaign', async () => {
    const prefix = uniquePrefix()
    const [a, b] = [await instance(prefix), await instance(prefix)]
    await changeAtRunTime(a, b)
    const lost = await onServer(async (r) => await stored(r, prefix))

    const meanwhile = decideMeanwhile([a, b])
    await server.stop()
    await server.start()
    const restoredMs = await timeUntil(async () => (await onServer(async (r) => (await stored(r, prefix)).policy)) !== null, 5000)
    await sleep(3 * CHECK_MS)
    await meanwhile.stop()
    console.log(`configuration back in Redis ${restoredMs.toFixed(0)} ms after an empty restart (check every ${CHECK_MS} ms)`)

    expect(verdicts(meanwhile.answers, 'fraud-risk')).toEqual(['eligible'])
    expect(verdicts(meanwhile.answers, 'spring')).toEqual(['campaign_inactive'])
    expect(verdicts(meanwhile.answers, 'autumn')).not.toContain('campaign_unknown')
    await onServer(async (r) => { await expectRestored(r, prefix, lost.revision) })
    await expectOneRestoreAudited(b)
    expect(await restoresCounted([a, b])).toBe(1)
  })

  it('with the compose stack\'s persistence, the configuration and its audit trail survive a Redis crash: nothing to restore', async () => {
    const compose = parse(readFileSync(new URL('../../docker-compose.yml', import.meta.url), 'utf8'))
    const [program, ...args] = compose.services.redis.command as string[]
    expect(program).toBe('redis-server')
    await server.stop()
    await server.start(args)
    const prefix = uniquePrefix()
    const [a, b] = [await instance(prefix), await instance(prefix)]
    await changeAtRunTime(a, b)
    const before = await onServer(async (r) => await stored(r, prefix))
    await sleep(1500) // appendfsync everysec: a crash loses at most the last second
    await server.stop()
    await server.start(args)
    await sleep(3 * CHECK_MS)
    expect(await onServer(async (r) => await stored(r, prefix))).toEqual(before)
    expect(await restoresCounted([a, b])).toBe(0)
    const audit = await admin(a, 'GET', '/v1/audit')
    expect(audit.body.items.map((e: any) => e.action)).toEqual(['penalty.apply', 'campaign.create', 'policy.update', 'policy.seed'])
    await server.stop()
    await server.start()
  })

  it('an instance that never loaded a configuration is not ready, and seeds the store from the policy file once it can', async () => {
    await server.stop()
    await server.start(REFUSE_WRITES)
    const prefix = uniquePrefix()
    const t = await instance(prefix)
    const refused = await readyz(t)
    expect(refused.status).toBe(503)
    expect(refused.body.message).toMatch(/configuration has not been loaded/)
    expect((await decideFresh(t, ['fraud-risk'])).candidates[0].reason).not.toBe('campaign_unknown')

    await onServer(async (r) => await r.config('SET', 'min-replicas-to-write', '0'))
    await eventually('seeded and ready', async () => (await readyz(t)).status === 200, 3000)
    expect((await readyz(t)).body).toMatchObject({ policyVersion: 1, governance: 'in_step' })
    const now = await onServer(async (r) => await stored(r, prefix))
    expect(now.policy).toMatchObject({ version: 1, updatedBy: 'boot' })
    expect(now.campaigns).toEqual(['fraud-risk', 'loans', 'spring'])
    expect(await restoresCounted([t])).toBe(0)
  })
})

describe('governance when Redis comes back with an older copy', () => {
  const apps: TestApp[] = []
  afterEach(async () => {
    await Promise.all(apps.map((t) => t.close()))
    apps.length = 0
  })

  it.each([
    { case: 'the policy version and the revision went back', version: 1, revisionsBack: 5, campaigns: ['spring'] },
    { case: 'only the revision went back', version: 2, revisionsBack: 1, campaigns: ['fraud-risk', 'spring'] }
  ])('$case: the instance writes back what it loaded', async (copy) => {
    const prefix = uniquePrefix()
    const [a, b] = [await testApp('redis', FILE, { prefix, checkEveryMs: CHECK_MS }), await testApp('redis', FILE, { prefix, checkEveryMs: CHECK_MS })]
    apps.push(a, b)
    await changeAtRunTime(a, b)
    const redis = rawRedis()
    try {
      const lost = await stored(redis, prefix)
      const record = (id: string): string => JSON.stringify({ campaign: FILE.campaigns.find((c) => c.id === id), updatedAt: new Date().toISOString(), updatedBy: 'boot' })
      // An older snapshot of the same keys, as a replica promoted behind its master or an old AOF would hold.
      await redis.multi()
        .del(`${prefix}{gov}:policy`, `${prefix}{gov}:campaigns`, `${prefix}{gov}:penalties`, `${prefix}{gov}:audit`, `${prefix}{gov}:history`)
        .hset(`${prefix}{gov}:policy`, 'current', JSON.stringify({ ...lost.policy, version: copy.version, document: FILE.policy }))
        .hset(`${prefix}{gov}:campaigns`, Object.fromEntries(copy.campaigns.map((id) => [id, record(id)])))
        .set(`${prefix}{gov}:rev`, lost.revision - copy.revisionsBack)
        .exec()
      await timeUntil(async () => (await stored(redis, prefix)).campaigns.length === 4, 5000)
      await sleep(3 * CHECK_MS)
      await expectRestored(redis, prefix, lost.revision)
      await expectOneRestoreAudited(a)
      expect(await restoresCounted([a, b])).toBe(1)
      const answer = await decideFresh(b, WATCHED)
      expect(answer.policyVersion).toBe(2)
      expect(answer.candidates.map((c: any) => c.reason)).toEqual(['eligible', 'campaign_inactive', 'lower_priority'])
    } finally {
      redis.disconnect()
    }
  })
})
