/**
 * The admin API for policy, campaigns, penalties and audit, against both governance stores
 * (memory and Redis) with the same cases.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { PolicyFile } from '../../src/rules/policy/schema.js'
import { campaign, policy, STORE_KINDS, testApp, type TestApp } from '../helpers/app.js'
import { admin, CLIENT, decideFresh, sleep } from './helpers.js'

const FILE: PolicyFile = {
  policy: policy({ doNotInterrupt: ['checkout'] }),
  campaigns: [campaign('spring'), campaign('loans', { category: 'loans', priority: 30 }), campaign('update', { class: 'service', category: 'app' })]
}

describe.each(STORE_KINDS)('governance admin API (%s store)', (kind) => {
  let t: TestApp
  afterEach(async () => { await t?.close() })
  const start = async (file = FILE): Promise<TestApp> => (t = await testApp(kind, file))

  it('admits admin keys only: no key 401, a client key 403, an admin key 200', async () => {
    await start()
    const routes: [('GET' | 'PUT' | 'POST' | 'DELETE'), string][] = [
      ['GET', '/v1/policy'], ['PUT', '/v1/policy'], ['GET', '/v1/policy/history'], ['GET', '/v1/campaigns'],
      ['GET', '/v1/campaigns/spring'], ['PUT', '/v1/campaigns/spring'], ['DELETE', '/v1/campaigns/spring'],
      ['POST', '/v1/campaigns/spring/penalties'], ['DELETE', '/v1/campaigns/spring/penalties'], ['GET', '/v1/audit']
    ]
    for (const [method, url] of routes) {
      const none = await t.app.inject({ method, url })
      expect(none.statusCode, `${method} ${url} without a key`).toBe(401)
      expect(none.json().error).toBe('unauthorized')
      const client = await t.app.inject({ method, url, headers: CLIENT })
      expect(client.statusCode, `${method} ${url} with a client key`).toBe(403)
    }
    for (const url of ['/v1/policy', '/v1/policy/history', '/v1/campaigns', '/v1/campaigns/spring', '/v1/audit']) {
      expect((await admin(t, 'GET', url)).status, url).toBe(200)
    }
  })

  it('serves the seeded policy as version 1 with an ETag, and every decision reports that version', async () => {
    await start()
    const { status, body, headers } = await admin(t, 'GET', '/v1/policy')
    expect(status).toBe(200)
    expect(body).toMatchObject({ version: 1, document: FILE.policy, updatedBy: 'boot' })
    expect(headers.etag).toBe('"1"')
    expect((await decideFresh(t, ['spring'])).policyVersion).toBe(1)
  })

  it('names the bad field of an invalid policy and changes nothing: decisions keep the old rules', async () => {
    await start()
    const bad = { ...FILE.policy, doNotInterrupt: [], caps: [{ id: 'daily', per: 'user', limit: -1, window: '1d' }] }
    const res = await admin(t, 'PUT', '/v1/policy', bad)
    expect(res.status).toBe(400)
    expect(res.body.error).toBe('bad_request')
    expect(res.body.details.map((d: any) => d.path)).toContain('/caps/0/limit')

    const zone = await admin(t, 'PUT', '/v1/policy', { ...FILE.policy, defaultTimezone: 'Mars/Olympus' })
    expect(zone.status).toBe(400)
    expect(zone.body.details).toEqual([{ path: '/defaultTimezone', message: 'not a known IANA time zone' }])

    expect((await admin(t, 'GET', '/v1/policy')).body.version).toBe(1)
    const during = await decideFresh(t, ['spring'], { context: { activity: 'checkout' } })
    expect(during.candidates[0].reason).toBe('do_not_interrupt')
    expect(during.policyVersion).toBe(1)
  })

  it('stores a valid policy as a new version that decisions follow at once, and keeps every version in the history', async () => {
    await start()
    await admin(t, 'PUT', '/v1/policy', { ...FILE.policy, doNotInterrupt: [] }, { 'x-change-reason': 'let checkout through' })
    await admin(t, 'PUT', '/v1/policy', { ...FILE.policy, doNotInterrupt: ['payment'] })
    const third = await admin(t, 'PUT', '/v1/policy', { ...FILE.policy, doNotInterrupt: ['payment'], caps: [{ id: 'daily', per: 'user', limit: 0, window: '1d' }] })
    expect(third.status).toBe(200)
    expect(third.body.version).toBe(4)
    expect(third.headers.etag).toBe('"4"')
    expect(third.body.updatedBy).toBe('dev-admin')

    const answer = await decideFresh(t, ['spring', 'update'], { context: { activity: 'checkout' } })
    expect(answer.policyVersion).toBe(4)
    expect(answer.candidates[0]).toMatchObject({ reason: 'cap_exceeded', capId: 'daily' })
    expect(answer.show).toEqual({ campaignId: 'update' })

    const history = await admin(t, 'GET', '/v1/policy/history?limit=2')
    expect(history.body.items.map((h: any) => h.version)).toEqual([4, 3])
    expect(history.body.items[0]).toMatchObject({ by: 'dev-admin', changes: ['/caps/0'] })
    expect(history.body.nextOffset).toBe(2)
    const rest = await admin(t, 'GET', '/v1/policy/history?limit=2&offset=2')
    expect(rest.body.items.map((h: any) => [h.version, h.by, h.reason])).toEqual([[2, 'dev-admin', 'let checkout through'], [1, 'boot', 'seeded from the policy file']])
    expect(rest.body.items[0].changes).toEqual(['/doNotInterrupt/0'])
    expect(rest.body.items[0].document.doNotInterrupt).toEqual([])
    expect(rest.body.nextOffset).toBeNull()
  })

  it('refuses a change based on a stale version with 412 (If-Match) and applies a current one', async () => {
    await start()
    const read = await admin(t, 'GET', '/v1/policy')
    const etag = read.headers.etag as string
    const first = await admin(t, 'PUT', '/v1/policy', { ...FILE.policy, mode: 'shadow' }, { 'if-match': etag })
    expect(first.status).toBe(200)
    const second = await admin(t, 'PUT', '/v1/policy', { ...FILE.policy, cooldown: '5m' }, { 'if-match': etag })
    expect(second.status).toBe(412)
    expect(second.body.error).toBe('precondition_failed')
    const now = await admin(t, 'GET', '/v1/policy')
    expect(now.body).toMatchObject({ version: 2, document: { mode: 'shadow' } })
    expect(now.body.document.cooldown).toBeUndefined()
    expect((await admin(t, 'PUT', '/v1/policy', { ...FILE.policy, cooldown: '5m' }, { 'if-match': now.headers.etag as string })).status).toBe(200)
  })

  it('creates, replaces and deletes campaigns, validated, and decisions follow each step', async () => {
    await start()
    expect((await decideFresh(t, ['autumn'])).candidates[0].reason).toBe('campaign_unknown')
    const autumn = campaign('autumn', { priority: 90 })
    const created = await admin(t, 'PUT', '/v1/campaigns/autumn', autumn)
    expect(created.status).toBe(201)
    expect(created.body).toMatchObject({ campaign: autumn, penalty: null, effectiveStatus: 'active', updatedBy: 'dev-admin' })
    expect((await decideFresh(t, ['spring', 'autumn'])).show).toEqual({ campaignId: 'autumn' })

    const paused = await admin(t, 'PUT', '/v1/campaigns/autumn', { ...autumn, status: 'paused' })
    expect(paused.status).toBe(200)
    expect((await decideFresh(t, ['autumn'])).candidates[0].reason).toBe('campaign_inactive')

    expect((await admin(t, 'DELETE', '/v1/campaigns/autumn')).status).toBe(204)
    expect((await admin(t, 'GET', '/v1/campaigns/autumn')).status).toBe(404)
    expect((await admin(t, 'DELETE', '/v1/campaigns/autumn')).status).toBe(404)
    expect((await decideFresh(t, ['autumn'])).candidates[0].reason).toBe('campaign_unknown')
  })

  it('names the bad field of an invalid campaign: priority range, endsAt before startsAt, class, id', async () => {
    await start()
    const cases: [Record<string, unknown>, string][] = [
      [{ priority: 101 }, '/priority'],
      [{ startsAt: '2026-06-02T00:00:00Z', endsAt: '2026-06-01T00:00:00Z' }, '/endsAt'],
      [{ class: 'urgent' }, '/class'],
      [{ id: 'other' }, '/id']
    ]
    for (const [over, path] of cases) {
      const res = await admin(t, 'PUT', '/v1/campaigns/x', { ...campaign('x'), ...over })
      expect(res.status, path).toBe(400)
      expect(res.body.details.map((d: any) => d.path), path).toContain(path)
    }
    expect((await admin(t, 'GET', '/v1/campaigns/x')).status).toBe(404)
  })

  it('lists campaigns by page, filtered by status and category', async () => {
    await start({ ...FILE, campaigns: [...FILE.campaigns, campaign('old', { status: 'paused' }), campaign('loans-2', { category: 'loans' })] })
    const first = await admin(t, 'GET', '/v1/campaigns?limit=2')
    expect(first.body.items.map((c: any) => c.campaign.id)).toEqual(['loans', 'loans-2'])
    const next = await admin(t, 'GET', `/v1/campaigns?limit=10&offset=${String(first.body.nextOffset)}`)
    expect(next.body.items.map((c: any) => c.campaign.id)).toEqual(['old', 'spring', 'update'])
    expect(next.body.nextOffset).toBeNull()
    expect((await admin(t, 'GET', '/v1/campaigns?category=loans')).body.items.map((c: any) => c.campaign.id)).toEqual(['loans', 'loans-2'])
    expect((await admin(t, 'GET', '/v1/campaigns?status=paused')).body.items.map((c: any) => c.campaign.id)).toEqual(['old'])
    await admin(t, 'POST', '/v1/campaigns/spring/penalties', { action: 'suspend', reason: 'aggressive copy' })
    expect((await admin(t, 'GET', '/v1/campaigns?status=suspended')).body.items.map((c: any) => c.campaign.id)).toEqual(['spring'])
    expect((await admin(t, 'GET', '/v1/campaigns?status=gone')).status).toBe(400)
  })

  it('suspends a campaign with a reason until lifted; replacing the campaign does not lift it', async () => {
    await start()
    expect((await admin(t, 'POST', '/v1/campaigns/spring/penalties', { action: 'suspend' })).status).toBe(400)
    const res = await admin(t, 'POST', '/v1/campaigns/spring/penalties', { action: 'suspend', reason: 'aggressive copy' })
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({ effectiveStatus: 'suspended', penalty: { action: 'suspend', reason: 'aggressive copy', by: 'dev-admin', inForce: true } })
    expect((await decideFresh(t, ['spring', 'loans'])).candidates.map((c: any) => c.reason)).toEqual(['campaign_inactive', 'eligible'])

    await admin(t, 'PUT', '/v1/campaigns/spring', campaign('spring', { name: 'Spring sale, reworded' }))
    expect((await decideFresh(t, ['spring'])).candidates[0].reason).toBe('campaign_inactive')

    const lifted = await admin(t, 'DELETE', '/v1/campaigns/spring/penalties', undefined, { 'x-change-reason': 'copy fixed' })
    expect(lifted.status).toBe(200)
    expect(lifted.body.penalty).toBeNull()
    expect((await decideFresh(t, ['spring'])).show).toEqual({ campaignId: 'spring' })
    expect((await admin(t, 'DELETE', '/v1/campaigns/spring/penalties')).status).toBe(404)
    expect((await admin(t, 'POST', '/v1/campaigns/ghost/penalties', { action: 'suspend', reason: 'x' })).status).toBe(404)
  })

  it('limits a campaign with stricter caps, on marketing campaigns only', async () => {
    await start()
    const limit = { action: 'limit', reason: 'too many complaints', caps: [{ id: 'penalty-weekly', per: 'campaign', limit: 1, window: '7d' }] }
    expect((await admin(t, 'POST', '/v1/campaigns/spring/penalties', { ...limit, caps: [] })).body.details[0].path).toBe('/caps')
    expect((await admin(t, 'POST', '/v1/campaigns/update/penalties', limit)).status).toBe(400)
    expect((await admin(t, 'POST', '/v1/campaigns/spring/penalties', limit)).status).toBe(200)

    const user = { userId: 'limited-user', placement: 'home', candidates: [{ campaignId: 'spring' }] }
    expect((await t.decide(user)).body.show).toEqual({ campaignId: 'spring' })
    const second = await t.decide(user)
    expect(second.body.candidates[0]).toMatchObject({ reason: 'cap_exceeded', capId: 'penalty-weekly' })
    // The same campaign for another user still shows once: the cap is per user, not a suspension.
    expect((await decideFresh(t, ['spring'])).show).toEqual({ campaignId: 'spring' })
  })

  it('ends a penalty with `until` by itself, on time, with no further write', async () => {
    await start()
    const until = new Date(Date.now() + 1500).toISOString()
    expect((await admin(t, 'POST', '/v1/campaigns/spring/penalties', { action: 'suspend', reason: 'cool off', until })).status).toBe(200)
    expect((await decideFresh(t, ['spring'])).candidates[0].reason).toBe('campaign_inactive')
    await sleep(Date.parse(until) - Date.now() + 50)
    expect((await decideFresh(t, ['spring'])).show).toEqual({ campaignId: 'spring' })
    const view = await admin(t, 'GET', '/v1/campaigns/spring')
    expect(view.body).toMatchObject({ effectiveStatus: 'active', penalty: { inForce: false } })
    const past = await admin(t, 'POST', '/v1/campaigns/spring/penalties', { action: 'suspend', reason: 'x', until: '2020-01-01T00:00:00Z' })
    expect(past.status).toBe(400)
    expect(past.body.details[0].path).toBe('/until')
  })

  it('keeps one audit trail of every change, newest first, naming the key, the reason and what changed', async () => {
    await start()
    await admin(t, 'PUT', '/v1/policy', { ...FILE.policy, cooldown: '5m' }, { 'x-change-reason': 'calmer' })
    await admin(t, 'PUT', '/v1/campaigns/autumn', campaign('autumn'))
    await admin(t, 'PUT', '/v1/campaigns/autumn', campaign('autumn', { priority: 60 }))
    await admin(t, 'POST', '/v1/campaigns/autumn/penalties', { action: 'suspend', reason: 'misleading' })
    await admin(t, 'DELETE', '/v1/campaigns/autumn/penalties', undefined, { 'x-change-reason': 'reviewed' })
    await admin(t, 'DELETE', '/v1/campaigns/autumn')
    await admin(t, 'PUT', '/v1/policy', { ...FILE.policy, caps: 'none' }) // refused: not audited

    const { body } = await admin(t, 'GET', '/v1/audit?limit=4')
    expect(body.items.map((e: any) => [e.action, e.target, e.by, e.reason])).toEqual([
      ['campaign.delete', 'campaign:autumn', 'dev-admin', null],
      ['penalty.lift', 'campaign:autumn', 'dev-admin', 'reviewed'],
      ['penalty.apply', 'campaign:autumn', 'dev-admin', 'misleading'],
      ['campaign.update', 'campaign:autumn', 'dev-admin', null]
    ])
    expect(body.items[3]).toMatchObject({ before: { priority: 50 }, after: { priority: 60 }, changes: ['/priority'] })
    expect(body.items[2]).toMatchObject({ before: null, after: { action: 'suspend', reason: 'misleading' } })
    const rest = await admin(t, 'GET', `/v1/audit?limit=10&offset=${String(body.nextOffset)}`)
    expect(rest.body.items.map((e: any) => e.action)).toEqual(['campaign.create', 'policy.update', 'policy.seed'])
    expect(rest.body.items[1]).toMatchObject({ by: 'dev-admin', reason: 'calmer', before: { version: 1 }, after: { version: 2 }, changes: ['/cooldown'] })
    expect(rest.body.items[2].by).toBe('boot')
    expect(Date.parse(rest.body.items[0].at)).toBeGreaterThan(Date.now() - 60_000)
  })
})
