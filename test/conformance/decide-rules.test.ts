/**
 * The decision rules, run against both stores: the in-memory store (pure TypeScript)
 * and Redis (decide.lua). Any difference between the two fails here.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { PolicyFile } from '../../src/rules/policy/schema.js'
import { campaign, policy, CACHED_STORE_KINDS, TestClock, testApp, type TestApp } from '../helpers/app.js'

const HOUR = 3_600_000

describe.each(CACHED_STORE_KINDS)('decision rules (%s store)', (kind) => {
  let t: TestApp | undefined
  afterEach(async () => { await t?.close(); t = undefined })

  async function start (file: PolicyFile, clock = new TestClock()): Promise<TestApp> {
    t = await testApp(kind, file, { clock })
    return t
  }
  const ask = (ids: string[], extra: Record<string, unknown> = {}, userId = 'user-1') =>
    t!.decide({ userId, placement: 'home', candidates: ids.map((campaignId) => ({ campaignId })), ...extra })

  it('suppresses campaigns it does not know, whatever the client says', async () => {
    await start({ policy: policy(), campaigns: [campaign('a')] })
    const { status, body } = await ask(['ghost', 'a'])
    expect(status).toBe(200)
    expect(body.candidates[0]).toEqual({ campaignId: 'ghost', allowed: false, reason: 'campaign_unknown' })
    expect(body.show).toEqual({ campaignId: 'a' })
  })

  it('suppresses paused, suspended, not yet started and ended campaigns', async () => {
    const clock = new TestClock(Date.parse('2026-06-01T12:00:00Z'))
    await start({
      policy: policy(),
      campaigns: [
        campaign('paused', { status: 'paused' }),
        campaign('suspended', { status: 'suspended' }),
        campaign('later', { startsAt: '2026-06-02T00:00:00Z' }),
        campaign('over', { endsAt: '2026-06-01T11:59:59Z' }),
        campaign('live', { startsAt: '2026-05-01T00:00:00Z', endsAt: '2026-07-01T00:00:00Z' })
      ]
    }, clock)
    const { body } = await ask(['paused', 'suspended', 'later', 'over', 'live'])
    expect(body.candidates.map((c: any) => c.reason)).toEqual(['campaign_inactive', 'campaign_inactive', 'campaign_inactive', 'campaign_inactive', 'eligible'])
    expect(body.show).toEqual({ campaignId: 'live' })
  })

  it('never interrupts a protected activity, except for critical messages', async () => {
    await start({
      policy: policy({ doNotInterrupt: ['checkout'] }),
      campaigns: [campaign('promo'), campaign('update', { class: 'service' }), campaign('fraud', { class: 'critical', priority: 10 })]
    })
    const { body } = await ask(['promo', 'update', 'fraud'], { context: { activity: 'checkout' } })
    expect(body.candidates.map((c: any) => c.reason)).toEqual(['do_not_interrupt', 'do_not_interrupt', 'eligible'])
    expect(body.show).toEqual({ campaignId: 'fraud' })
    const other = await ask(['promo'], { context: { activity: 'browsing' } })
    expect(other.body.show).toEqual({ campaignId: 'promo' })
  })

  it('keeps quiet hours across midnight in the user\'s time zone and says when they end', async () => {
    // 14:30 UTC is 23:30 in Tokyo (UTC+9): inside 22:00-08:00, 8 h 30 min before it ends.
    const clock = new TestClock(Date.parse('2026-06-01T14:30:00Z'))
    await start({
      policy: policy({ quietHours: { start: '22:00', end: '08:00' } }),
      campaigns: [campaign('promo'), campaign('update', { class: 'service' }), campaign('fraud', { class: 'critical' })]
    }, clock)
    const tokyo = { context: { timezone: 'Asia/Tokyo' } }
    const night = await ask(['promo', 'update', 'fraud'], tokyo)
    expect(night.body.candidates[0]).toMatchObject({ reason: 'quiet_hours', retryAfterSeconds: 8.5 * 3600 })
    expect(night.body.candidates[1]).toMatchObject({ reason: 'quiet_hours', retryAfterSeconds: 8.5 * 3600 })
    expect(night.body.show).toEqual({ campaignId: 'fraud' })
    // Same instant in UTC (the policy default here) is 14:30: not quiet.
    expect((await ask(['promo'], {}, 'user-2')).body.show).toEqual({ campaignId: 'promo' })
    clock.advance(8.5 * HOUR) // 08:00 in Tokyo: the window has ended
    expect((await ask(['promo'], tokyo, 'user-3')).body.show).toEqual({ campaignId: 'promo' })
  })

  it('rejects a time zone it does not know with 400', async () => {
    await start({ policy: policy(), campaigns: [campaign('a')] })
    const { status, body } = await ask(['a'], { context: { timezone: 'Mars/Olympus' } })
    expect(status).toBe(400)
    expect(body).toMatchObject({ error: 'bad_request' })
    expect(body.message).toContain('context.timezone')
  })

  it('keeps the cooldown between two marketing pop-ups and says when it ends', async () => {
    const clock = new TestClock()
    await start({ policy: policy({ cooldown: '10m' }), campaigns: [campaign('a'), campaign('b'), campaign('update', { class: 'service' })] }, clock)
    expect((await ask(['a'])).body.show).toEqual({ campaignId: 'a' })
    clock.advance(4 * 60_000)
    const second = await ask(['b', 'update'])
    expect(second.body.candidates[0]).toMatchObject({ reason: 'cooldown', retryAfterSeconds: 6 * 60 })
    expect(second.body.show).toEqual({ campaignId: 'update' }) // service messages skip the cooldown
    clock.advance(6 * 60_000)
    expect((await ask(['b'])).body.show).toEqual({ campaignId: 'b' })
  })

  it('caps pop-ups per user in a rolling window, names the cap and when a slot frees', async () => {
    const clock = new TestClock()
    await start({ policy: policy({ caps: [{ id: 'daily', per: 'user', limit: 2, window: '1d' }] }), campaigns: [campaign('a'), campaign('b'), campaign('c')] }, clock)
    expect((await ask(['a'])).body.show).toEqual({ campaignId: 'a' })
    clock.advance(2 * HOUR)
    expect((await ask(['b'])).body.show).toEqual({ campaignId: 'b' })
    clock.advance(1 * HOUR)
    const third = await ask(['c'])
    expect(third.body.show).toBeNull()
    expect(third.body.candidates[0]).toEqual({ campaignId: 'c', allowed: false, reason: 'cap_exceeded', capId: 'daily', retryAfterSeconds: 21 * 3600 })
    clock.advance(21 * HOUR) // the first impression leaves the window
    expect((await ask(['c'])).body.show).toEqual({ campaignId: 'c' })
  })

  it('caps one campaign without touching the others', async () => {
    await start({
      policy: policy({ caps: [{ id: 'same-campaign', per: 'campaign', limit: 1, window: '7d' }] }),
      campaigns: [campaign('a', { priority: 90 }), campaign('b')]
    })
    expect((await ask(['a', 'b'])).body.show).toEqual({ campaignId: 'a' })
    const again = await ask(['a', 'b'])
    expect(again.body.candidates[0]).toMatchObject({ reason: 'cap_exceeded', capId: 'same-campaign', retryAfterSeconds: 7 * 86400 })
    expect(again.body.show).toEqual({ campaignId: 'b' })
  })

  it('caps a matched category per calendar day in a time zone far from UTC', async () => {
    // 09:30 UTC is 21:30 in Auckland (UTC+12 in June): 2 h 30 min left in the local day.
    const clock = new TestClock(Date.parse('2026-06-01T09:30:00Z'))
    await start({
      policy: policy({ caps: [{ id: 'loans-daily', per: 'category', match: { category: 'loans' }, limit: 1, window: 'calendarDay' }] }),
      campaigns: [campaign('loan-a', { category: 'loans' }), campaign('loan-b', { category: 'loans' }), campaign('promo')]
    }, clock)
    const nz = { context: { timezone: 'Pacific/Auckland' } }
    expect((await ask(['loan-a'], nz)).body.show).toEqual({ campaignId: 'loan-a' })
    const second = await ask(['loan-b', 'promo'], nz)
    expect(second.body.candidates[0]).toMatchObject({ reason: 'cap_exceeded', capId: 'loans-daily', retryAfterSeconds: 2.5 * 3600 })
    expect(second.body.show).toEqual({ campaignId: 'promo' }) // other categories are not matched by the cap
    clock.advance(2.5 * HOUR) // midnight in Auckland, still 12:00 the same day in UTC
    expect((await ask(['loan-b'], nz)).body.show).toEqual({ campaignId: 'loan-b' })
  })

  it('caps per declared placement, and every undeclared placement together as one, "other"', async () => {
    await start({
      policy: policy({ placements: ['home', 'wallet'], caps: [{ id: 'per-slot', per: 'placement', limit: 1, window: '1h' }] }),
      campaigns: [campaign('a'), campaign('b'), campaign('c')]
    })
    const at = (placement: string, id: string) => t!.decide({ userId: 'user-1', placement, candidates: [{ campaignId: id }] })
    expect((await ask(['a'])).body.show).toEqual({ campaignId: 'a' })
    expect((await ask(['b'])).body.candidates[0]).toMatchObject({ reason: 'cap_exceeded', capId: 'per-slot' })
    expect((await at('wallet', 'b')).body.show).toEqual({ campaignId: 'b' })
    expect((await at('kiosk', 'c')).body.show).toEqual({ campaignId: 'c' })
    expect((await at('lobby', 'c')).body.candidates[0]).toMatchObject({ reason: 'cap_exceeded', capId: 'per-slot' })
  })

  it('narrows a cap to "other" with match.placement: every undeclared placement, none declared', async () => {
    await start({
      policy: policy({ placements: ['home'], caps: [{ id: 'elsewhere', per: 'user', limit: 1, window: '1h', match: { placement: 'other' } }] }),
      campaigns: [campaign('a'), campaign('b')]
    })
    const at = (placement: string, id: string) => t!.decide({ userId: 'user-1', placement, candidates: [{ campaignId: id }] })
    expect((await at('kiosk', 'a')).body.show).toEqual({ campaignId: 'a' })
    expect((await at('lobby', 'b')).body.candidates[0]).toMatchObject({ reason: 'cap_exceeded', capId: 'elsewhere' })
    expect((await at('home', 'b')).body.show).toEqual({ campaignId: 'b' })
  })

  it('keeps the last slot of a cap for high-priority campaigns', async () => {
    await start({
      policy: policy({ caps: [{ id: 'daily', per: 'user', limit: 2, window: '1d', reserve: { slots: 1, minPriority: 80 } }] }),
      campaigns: [campaign('low', { priority: 50 }), campaign('low2', { priority: 50 }), campaign('high', { priority: 90 })]
    })
    expect((await ask(['low'])).body.show).toEqual({ campaignId: 'low' })
    expect((await ask(['low2'])).body.candidates[0]).toMatchObject({ reason: 'cap_exceeded', capId: 'daily' })
    expect((await ask(['high'])).body.show).toEqual({ campaignId: 'high' })
    expect((await ask(['high'])).body.candidates[0]).toMatchObject({ reason: 'cap_exceeded', capId: 'daily' })
  })

  it('applies a campaign\'s own extra caps', async () => {
    await start({ policy: policy(), campaigns: [campaign('a', { caps: [{ id: 'a-hourly', per: 'campaign', limit: 1, window: '1h' }] }), campaign('b')] })
    await ask(['a'])
    expect((await ask(['a'])).body.candidates[0]).toMatchObject({ reason: 'cap_exceeded', capId: 'a-hourly', retryAfterSeconds: 3600 })
    expect((await ask(['b'])).body.show).toEqual({ campaignId: 'b' })
  })

  it('lets service messages past caps and critical messages past every rule', async () => {
    await start({
      policy: policy({ caps: [{ id: 'none', per: 'user', limit: 0, window: '1d' }], cooldown: '1h' }),
      campaigns: [campaign('promo'), campaign('update', { class: 'service', priority: 10 }), campaign('fraud', { class: 'critical', priority: 5 })]
    })
    const first = await ask(['promo', 'update'])
    expect(first.body.candidates[0]).toMatchObject({ reason: 'cap_exceeded', capId: 'none' })
    expect(first.body.show).toEqual({ campaignId: 'update' })
    expect((await ask(['fraud'])).body.show).toEqual({ campaignId: 'fraud' })
  })

  it('shows the highest priority and marks the others lower_priority', async () => {
    await start({ policy: policy(), campaigns: [campaign('low', { priority: 10 }), campaign('high', { priority: 90 }), campaign('mid', { priority: 50 })] })
    const { body } = await ask(['low', 'high', 'mid'])
    expect(body.show).toEqual({ campaignId: 'high' })
    expect(body.candidates.map((c: any) => [c.allowed, c.reason])).toEqual([[false, 'lower_priority'], [true, 'eligible'], [false, 'lower_priority']])
  })

  it('rotates equal-priority campaigns so none starves: least recently shown first, then client order', async () => {
    const clock = new TestClock()
    await start({ policy: policy(), campaigns: [campaign('a'), campaign('b'), campaign('c')] }, clock)
    const shown: string[] = []
    for (let i = 0; i < 6; i++) {
      shown.push((await ask(['a', 'b', 'c'])).body.show.campaignId)
      clock.advance(1000)
    }
    expect(shown).toEqual(['a', 'b', 'c', 'a', 'b', 'c'])
  })

  it('answers a repeated requestId with the first answer and counts it once', async () => {
    await start({ policy: policy({ caps: [{ id: 'one', per: 'user', limit: 1, window: '1d' }] }), campaigns: [campaign('a'), campaign('b')] })
    const first = await ask(['a'], { requestId: 'req-1' })
    const again = await ask(['a'], { requestId: 'req-1' })
    expect(again.body).toEqual(first.body)
    expect(first.body.show).toEqual({ campaignId: 'a' })
    // Counted once: the cap of one is used up by the first, not by the replay.
    expect((await ask(['b'], { requestId: 'req-2' })).body.candidates[0]).toMatchObject({ reason: 'cap_exceeded' })
    // Another user's identical requestId is a different request.
    expect((await ask(['b'], { requestId: 'req-1' }, 'user-2')).body.show).toEqual({ campaignId: 'b' })
  })

  it('replays the first answer whole: cap id of every allowed character, retry time, enforced flag', async () => {
    const clock = new TestClock()
    const capId = 'AZaz09_.:-x' // every kind of character a cap id may hold (src/rules/policy/schema.ts)
    await start({
      policy: policy({ mode: 'shadow', caps: [{ id: capId, per: 'user', limit: 1, window: '1d' }] }),
      campaigns: [campaign('a'), campaign('b', { priority: 60 }), campaign('off', { status: 'paused' })]
    }, clock)
    await ask(['a'])
    clock.advance(60_000)
    const first = await ask(['a', 'ghost', 'b', 'off'], { requestId: 'req-1' })
    expect(first.body.candidates).toEqual([
      { campaignId: 'a', allowed: false, reason: 'cap_exceeded', capId, retryAfterSeconds: 86400 - 60, enforced: false },
      { campaignId: 'ghost', allowed: false, reason: 'campaign_unknown' },
      { campaignId: 'b', allowed: true, reason: 'cap_exceeded', capId, retryAfterSeconds: 86400 - 60, enforced: false },
      { campaignId: 'off', allowed: false, reason: 'campaign_inactive' }
    ])
    clock.advance(60_000) // a fresh decision would now say 86400 - 120
    const again = await ask(['a', 'ghost', 'b', 'off'], { requestId: 'req-1' })
    expect(again.body).toEqual(first.body)
  })

  it('decides but never suppresses in shadow mode, and says which rules would have applied', async () => {
    await start({ policy: policy({ mode: 'shadow', caps: [{ id: 'one', per: 'user', limit: 1, window: '1d' }] }), campaigns: [campaign('a'), campaign('b')] })
    await ask(['a'])
    const second = await ask(['b'])
    expect(second.body.mode).toBe('shadow')
    expect(second.body.show).toEqual({ campaignId: 'b' })
    expect(second.body.candidates[0]).toEqual({ campaignId: 'b', allowed: true, reason: 'cap_exceeded', capId: 'one', retryAfterSeconds: 86400, enforced: false })
  })

  it('never suppresses the holdout cohort by frequency rules, and suppresses the treated one', async () => {
    await start({
      policy: policy({ holdout: { percent: 50, salt: 's1' }, caps: [{ id: 'one', per: 'user', limit: 1, window: '1d' }] }),
      campaigns: [campaign('a'), campaign('b')]
    })
    const cohorts = new Map<string, string>()
    for (let i = 0; i < 20; i++) {
      const userId = `cohort-user-${i}`
      cohorts.set(userId, (await ask(['a'], {}, userId)).body.cohort)
    }
    expect([...cohorts.values()]).toContain('holdout')
    expect([...cohorts.values()]).toContain('treated')
    for (const [userId, cohort] of cohorts) {
      const second = await ask(['b'], {}, userId)
      expect(second.body.cohort).toBe(cohort)
      if (cohort === 'holdout') {
        expect(second.body.show).toEqual({ campaignId: 'b' })
        expect(second.body.candidates[0]).toMatchObject({ reason: 'cap_exceeded', enforced: false })
      } else {
        expect(second.body.show).toBeNull()
        expect(second.body.candidates[0]).toMatchObject({ reason: 'cap_exceeded' })
        expect(second.body.candidates[0].enforced).toBeUndefined()
      }
    }
  })
})
