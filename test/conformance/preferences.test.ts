/**
 * Preferences and erasure, against both stores: what a user switches off stays off,
 * and an erased user is as new.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { afterEach, describe, expect, it } from 'vitest'
import type { PolicyFile } from '../../src/rules/policy/schema.js'
import { campaign, policy, rawRedis, CACHED_STORE_KINDS, TestClock, testApp, userTag, type TestApp } from '../helpers/app.js'
import { userControl } from '../helpers/user-control.js'

const DAY = 86_400_000

const CAMPAIGNS = [
  campaign('promo-a', { category: 'promo' }),
  campaign('loan-a', { category: 'loans' }),
  campaign('loan-notice', { class: 'service', category: 'loans', priority: 10 }),
  campaign('app-update', { class: 'service', category: 'app', priority: 10 }),
  campaign('fraud', { class: 'critical', category: 'loans', priority: 5 })
]

describe.each(CACHED_STORE_KINDS)('preferences and erasure (%s store)', (kind) => {
  let t: TestApp | undefined
  afterEach(async () => { await t?.close(); t = undefined })

  async function start (file: PolicyFile = { policy: policy(), campaigns: CAMPAIGNS }, clock?: TestClock) {
    t = await testApp(kind, file, clock === undefined ? {} : { clock })
    return userControl(t)
  }
  const ask = async (ids: string[], userId = 'user-1', extra: Record<string, unknown> = {}) =>
    (await t!.decide({ userId, placement: 'home', candidates: ids.map((campaignId) => ({ campaignId })), ...extra })).body
  const reasons = (body: any) => body.candidates.map((c: any) => c.reason)

  it('gives a user never seen the defaults: everything on, no snooze', async () => {
    const api = await start()
    expect(await api.getPrefs('nobody')).toEqual({ status: 200, body: { marketing: 'on', categories: {}, snoozeUntil: null } })
  })

  it('stops all marketing when marketing is off, and nothing else', async () => {
    const api = await start()
    const put = await api.putPrefs('user-1', { marketing: 'off' })
    expect(put).toEqual({ status: 200, body: { marketing: 'off', categories: {}, snoozeUntil: null } })
    expect((await api.getPrefs('user-1')).body).toEqual(put.body)
    const body = await ask(['promo-a', 'loan-a', 'app-update'])
    expect(reasons(body)).toEqual(['opted_out', 'opted_out', 'eligible'])
    expect(body.show).toEqual({ campaignId: 'app-update' })
    expect((await ask(['promo-a'], 'user-2')).show).toEqual({ campaignId: 'promo-a' }) // only that user
  })

  it('stops a category for marketing and service alike, but never a critical message', async () => {
    const api = await start()
    expect((await api.putPrefs('user-1', { marketing: 'on', categories: { loans: 'off', promo: 'on' } })).status).toBe(200)
    expect((await api.getPrefs('user-1')).body.categories).toEqual({ loans: 'off', promo: 'on' })
    const body = await ask(['loan-a', 'loan-notice', 'promo-a'])
    expect(reasons(body)).toEqual(['opted_out', 'opted_out', 'eligible'])
    expect((await ask(['loan-notice', 'fraud'])).show).toEqual({ campaignId: 'fraud' })
  })

  it('snoozes marketing until a time, says when it ends, and lets service messages through', async () => {
    const clock = new TestClock()
    const api = await start(undefined, clock)
    const until = new Date(clock.ms + 2 * DAY).toISOString()
    expect((await api.putPrefs('user-1', { marketing: 'on', snoozeUntil: until })).body.snoozeUntil).toBe(until)
    const body = await ask(['promo-a', 'app-update'])
    expect(body.candidates[0]).toEqual({ campaignId: 'promo-a', allowed: false, reason: 'opted_out', retryAfterSeconds: 2 * 86400 })
    expect(body.show).toEqual({ campaignId: 'app-update' })
    clock.advance(2 * DAY)
    expect((await ask(['promo-a'])).show).toEqual({ campaignId: 'promo-a' })
    expect((await api.getPrefs('user-1')).body.snoozeUntil).toBeNull() // an ended snooze is no snooze
  })

  it('ends a short snooze by itself, in real time', async () => {
    const api = await start()
    await api.putPrefs('user-1', { marketing: 'on', snoozeUntil: new Date(Date.now() + 800).toISOString() })
    expect((await ask(['promo-a'])).candidates[0]).toMatchObject({ reason: 'opted_out', retryAfterSeconds: 1 })
    await sleep(900)
    expect((await ask(['promo-a'])).show).toEqual({ campaignId: 'promo-a' })
  })

  it('replaces preferences whole on PUT: what is not sent is cleared', async () => {
    const api = await start()
    await api.putPrefs('user-1', { marketing: 'off', categories: { loans: 'off' }, snoozeUntil: new Date(Date.now() + DAY).toISOString() })
    expect((await api.putPrefs('user-1', { marketing: 'on' })).body).toEqual({ marketing: 'on', categories: {}, snoozeUntil: null })
    expect((await ask(['loan-a'])).show).toEqual({ campaignId: 'loan-a' })
  })

  it('refuses unknown fields, invalid values and snoozes in the past or beyond a year, storing nothing', async () => {
    const api = await start()
    await api.putPrefs('user-1', { marketing: 'off' })
    const bad = [
      { marketing: 'on', colour: 'blue' },
      { marketing: 'maybe' },
      {},
      { marketing: 'on', categories: { loans: 'no' } },
      { marketing: 'on', categories: { '': 'off' } },
      { marketing: 'on', snoozeUntil: 'tomorrow' },
      { marketing: 'on', snoozeUntil: new Date(Date.now() - 60_000).toISOString() },
      { marketing: 'on', snoozeUntil: new Date(Date.now() + 366 * DAY).toISOString() }
    ]
    for (const body of bad) {
      const res = await api.putPrefs('user-1', body)
      expect(res.status, JSON.stringify(body)).toBe(400)
      expect(res.body.error).toBe('bad_request')
    }
    expect((await api.getPrefs('user-1')).body).toEqual({ marketing: 'off', categories: {}, snoozeUntil: null })
  })

  it('needs the preferences scope', async () => {
    await start()
    const res = await t!.app.inject({ method: 'GET', url: '/v1/users/user-1/preferences', headers: { authorization: 'Bearer dev-client-key' } })
    expect(res.statusCode).toBe(403)
    const erase = await t!.app.inject({ method: 'DELETE', url: '/v1/users/user-1' })
    expect(erase.statusCode).toBe(401)
  })

  it('erases a user: caps, preferences, fatigue and idempotency records are gone, other users untouched', async () => {
    const api = await start({
      policy: policy({ caps: [{ id: 'one', per: 'user', limit: 1, window: '1d' }], fatigue: { dismissals: 1, within: '1d', backoff: '7d' } }),
      campaigns: CAMPAIGNS
    })
    for (const userId of ['user-1', 'user-2']) {
      const first = await ask(['promo-a'], userId, { requestId: 'req-1' })
      await api.events([{ decisionId: first.decisionId, userId, campaignId: 'promo-a', type: 'dismissed' }])
      await api.putPrefs(userId, { marketing: 'on', categories: { loans: 'off' } })
    }
    expect((await ask(['promo-a', 'loan-a'])).show).toBeNull()

    expect(await api.erase('user-1')).toEqual({ status: 204, body: null })
    expect((await api.getPrefs('user-1')).body).toEqual({ marketing: 'on', categories: {}, snoozeUntil: null })
    const after = await ask(['promo-a'], 'user-1', { requestId: 'req-1' })
    expect(after.show).toEqual({ campaignId: 'promo-a' }) // not a replay, not capped, not backed off
    expect((await ask(['promo-a', 'loan-a'], 'user-2')).show).toBeNull()
    expect((await api.erase('never-seen')).status).toBe(204)
  })

  if (kind === 'redis') {
    it('leaves no key of an erased user in Redis', async () => {
      const api = await start({ policy: policy({ fatigue: { dismissals: 2, within: '1d', backoff: '7d' } }), campaigns: CAMPAIGNS })
      for (const userId of ['user-1', 'user-2']) {
        for (const requestId of ['req-1', 'req-2']) {
          const d = await ask(['promo-a'], userId, { requestId })
          await api.events([{ decisionId: d.decisionId, userId, campaignId: 'promo-a', type: 'dismissed' }])
        }
        await api.putPrefs(userId, { marketing: 'on', categories: { loans: 'off' } })
        const d = await ask(['loan-notice', 'app-update'], userId)
        await api.events([{ decisionId: d.decisionId, userId, campaignId: 'app-update', type: 'complained' }])
      }
      const redis = rawRedis()
      try {
        const keys = async () => {
          const found: string[] = []
          let cursor = '0'
          do {
            const [next, batch] = await redis.scan(cursor, 'MATCH', `${t!.prefix}*`, 'COUNT', 1000)
            found.push(...batch)
            cursor = next
          } while (cursor !== '0')
          return found.sort()
        }
        const tag1 = `{u:${userTag('user-1')}}`
        const before = await keys()
        expect(before.filter((k) => k.includes(tag1)).map((k) => k.slice(k.indexOf('}') + 2)).sort())
          .toEqual(['e', 'f', 'h', 'l', 'p', 'q'])
        expect((await redis.hkeys(before.find((k) => k.includes(tag1) && k.endsWith(':q')) ?? '')).sort()).toEqual(['req-1', 'req-2'])
        await api.erase('user-1')
        const after = await keys()
        expect(after.filter((k) => k.includes(tag1))).toEqual([])
        expect(after).toEqual(before.filter((k) => !k.includes(tag1)))
        // Every user key keeps a TTL; governance keys are configuration and have none on purpose (docs/governance.md).
        for (const key of after.filter((k) => !k.includes('{gov}:'))) expect(await redis.pttl(key)).toBeGreaterThan(0)
      } finally {
        redis.disconnect()
      }
    })
  }
})
