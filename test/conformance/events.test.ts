/**
 * Client events against both stores: exact impressions (shown confirms, discarded
 * frees the slot, the lease settles the rest), fatigue, complaints, dedupe, bad batches.
 */
import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterEach, describe, expect, it } from 'vitest'
import type { EventRecord } from '../../src/services/events/event-service.js'
import type { Policy } from '../../src/rules/policy/schema.js'
import { campaign, policy, CACHED_STORE_KINDS, TestClock, testApp, type TestApp } from '../helpers/app.js'
import { userControl } from '../helpers/user-control.js'

const DAY = 86_400_000
const CAMPAIGNS = [campaign('a'), campaign('b'), campaign('update', { class: 'service', priority: 10 })]
const ONE_A_DAY: Policy['caps'] = [{ id: 'one', per: 'user', limit: 1, window: '1d' }]
const FATIGUE = { dismissals: 2, within: '3d', backoff: '7d' }

describe.each(CACHED_STORE_KINDS)('client events (%s store)', (kind) => {
  let t: TestApp | undefined
  afterEach(async () => { await t?.close(); t = undefined })

  async function start (over: Partial<Policy> = {}, clock?: TestClock) {
    t = await testApp(kind, { policy: policy(over), campaigns: CAMPAIGNS }, clock === undefined ? {} : { clock })
    return userControl(t)
  }
  const ask = async (ids: string[], userId = 'user-1') =>
    (await t!.decide({ userId, placement: 'home', candidates: ids.map((campaignId) => ({ campaignId })) })).body
  const event = (d: any, type: string, userId = 'user-1', campaignId = d.show?.campaignId) =>
    ({ decisionId: d.decisionId, userId, campaignId, type })

  it('frees the cap slot when the app discards the pop-up', async () => {
    const api = await start({ caps: ONE_A_DAY })
    const first = await ask(['a'])
    expect(first.show).toEqual({ campaignId: 'a' })
    expect((await ask(['b'])).candidates[0]).toMatchObject({ reason: 'cap_exceeded', capId: 'one' })
    expect(await api.events([event(first, 'discarded')])).toEqual({ status: 202, body: { accepted: 1, rejected: [] } })
    expect((await ask(['b'])).show).toEqual({ campaignId: 'b' })
  })

  it('keeps a confirmed impression: shown then discarded is refused and the slot stays taken', async () => {
    const api = await start({ caps: ONE_A_DAY })
    const first = await ask(['a'])
    const res = await api.events([event(first, 'shown'), event(first, 'discarded')])
    expect(res).toEqual({ status: 202, body: { accepted: 1, rejected: [{ index: 1, reason: 'already_shown' }] } })
    expect((await ask(['b'])).candidates[0]).toMatchObject({ reason: 'cap_exceeded' })
  })

  it('rejects events that name no decision of that user, one by one, and applies the rest', async () => {
    const api = await start({ caps: ONE_A_DAY })
    const mine = await ask(['a'])
    const theirs = await ask(['a'], 'user-2')
    const res = await api.events([
      { decisionId: randomUUID(), userId: 'user-1', campaignId: 'a', type: 'shown' }, // unknown decision
      event(theirs, 'discarded', 'user-1'), // another user's decision
      event(mine, 'discarded', 'user-1', 'b'), // a campaign this decision did not show
      event(mine, 'discarded')
    ])
    expect(res.status).toBe(202)
    expect(res.body).toEqual({
      accepted: 1,
      rejected: [{ index: 0, reason: 'unknown_decision' }, { index: 1, reason: 'unknown_decision' }, { index: 2, reason: 'unknown_decision' }]
    })
    expect((await ask(['b'])).show).toEqual({ campaignId: 'b' }) // user-1's own discard freed the slot
    expect((await ask(['b'], 'user-2')).show).toBeNull() // user-2's slot was not touched
  })

  it('counts the same event once, within a batch and across batches', async () => {
    const api = await start({ fatigue: FATIGUE })
    const d = await ask(['a'])
    const first = await api.events([event(d, 'shown'), event(d, 'dismissed'), event(d, 'dismissed')])
    expect(first.body).toEqual({ accepted: 2, rejected: [{ index: 2, reason: 'duplicate' }] })
    const again = await api.events([event(d, 'shown'), event(d, 'dismissed')])
    expect(again.body).toEqual({ accepted: 0, rejected: [{ index: 0, reason: 'duplicate' }, { index: 1, reason: 'duplicate' }] })
    // Four dismissed events of one decision are one dismissal: no backoff.
    expect((await ask(['a'])).show).toEqual({ campaignId: 'a' })
  })

  it('backs a campaign off after the second dismissal within the window, not after the first', async () => {
    const clock = new TestClock()
    const api = await start({ fatigue: FATIGUE }, clock)
    const first = await ask(['a'])
    await api.events([event(first, 'shown'), event(first, 'dismissed')])
    clock.advance(DAY)
    const second = await ask(['a'])
    expect(second.show).toEqual({ campaignId: 'a' })
    await api.events([event(second, 'shown'), event(second, 'dismissed')])
    clock.advance(60_000)
    const backedOff = await ask(['a', 'b'])
    expect(backedOff.candidates[0]).toEqual({ campaignId: 'a', allowed: false, reason: 'fatigue', retryAfterSeconds: 7 * 86400 - 60 })
    expect(backedOff.show).toEqual({ campaignId: 'b' }) // only that campaign
    expect((await ask(['a'], 'user-2')).show).toEqual({ campaignId: 'a' }) // only that user
    clock.advance(7 * DAY)
    expect((await ask(['a'])).show).toEqual({ campaignId: 'a' })
  })

  it('does not add up dismissals further apart than the window, nor across a click', async () => {
    const clock = new TestClock()
    const api = await start({ fatigue: FATIGUE }, clock)
    const d1 = await ask(['a'])
    await api.events([event(d1, 'dismissed')])
    clock.advance(3 * DAY + 1000)
    const d2 = await ask(['a'])
    await api.events([event(d2, 'dismissed')])
    const d3 = await ask(['a'])
    expect(d3.show).toEqual({ campaignId: 'a' }) // 3 days apart: a new streak of one
    await api.events([event(d3, 'clicked')])
    const d4 = await ask(['a'])
    await api.events([event(d4, 'dismissed')])
    expect((await ask(['a'])).show).toEqual({ campaignId: 'a' }) // the click reset the streak
  })

  it('stops a campaign for good after a complaint, until the user is erased', async () => {
    const clock = new TestClock()
    const api = await start({}, clock)
    const d = await ask(['a', 'update'])
    expect((await api.events([event(d, 'complained')])).body.accepted).toBe(1)
    clock.advance(90 * DAY)
    const later = await ask(['a', 'b'])
    expect(later.candidates[0]).toEqual({ campaignId: 'a', allowed: false, reason: 'fatigue' })
    expect(later.show).toEqual({ campaignId: 'b' })
    await api.erase('user-1')
    expect((await ask(['a'])).show).toEqual({ campaignId: 'a' })
  })

  for (const unconfirmed of ['release', 'count'] as const) {
    it(`settles a reservation neither shown nor discarded within the lease: ${unconfirmed}`, async () => {
      const api = await start({ caps: ONE_A_DAY, reservation: { lease: '1s', unconfirmed } })
      const first = await ask(['a'])
      expect((await ask(['b'])).candidates[0]).toMatchObject({ reason: 'cap_exceeded' }) // reserved: counts while leased
      await sleep(1200)
      if (unconfirmed === 'release') {
        // Too late to confirm: the slot is free again, and the next decision takes it.
        expect((await api.events([event(first, 'shown')])).body.rejected).toEqual([{ index: 0, reason: 'lease_expired' }])
        expect((await ask(['b'])).show).toEqual({ campaignId: 'b' })
        expect((await api.events([event(first, 'shown')])).body.rejected).toEqual([{ index: 0, reason: 'unknown_decision' }])
      } else {
        expect((await ask(['b'])).candidates[0]).toMatchObject({ reason: 'cap_exceeded' })
        expect((await api.events([event(first, 'discarded')])).body.rejected).toEqual([{ index: 0, reason: 'lease_expired' }])
        expect((await api.events([event(first, 'shown')])).body.accepted).toBe(1)
        expect((await ask(['b'])).candidates[0]).toMatchObject({ reason: 'cap_exceeded' })
      }
    })
  }

  it('takes an event time a little ahead as now, and refuses one too far ahead or too old, naming it', async () => {
    const clock = new TestClock()
    const api = await start({ caps: ONE_A_DAY }, clock)
    const d = await ask(['a'])
    const at = (ms: number) => new Date(clock.ms + ms).toISOString()
    for (const [ms, path] of [[5 * 60_000 + 1, '/events/1/at'], [-30 * DAY - 1, '/events/1/at']] as const) {
      const res = await api.events([{ ...event(d, 'shown'), at: at(0) }, { ...event(d, 'discarded'), at: at(ms) }])
      expect(res.status).toBe(400)
      expect(res.body).toMatchObject({ error: 'bad_request', details: [{ path }] })
    }
    expect((await ask(['b'])).candidates[0]).toMatchObject({ reason: 'cap_exceeded' }) // nothing of either batch was applied
    expect((await api.events([{ ...event(d, 'discarded'), at: at(5 * 60_000) }])).body).toEqual({ accepted: 1, rejected: [] })
    expect((await ask(['b'])).show).toEqual({ campaignId: 'b' })
    expect((await api.events([{ ...event(d, 'dismissed'), at: at(-30 * DAY) }])).status).toBe(202)
  })

  it('refuses a bad batch whole, applying nothing', async () => {
    const api = await start({ caps: ONE_A_DAY })
    const d = await ask(['a'])
    const good = event(d, 'discarded')
    const badBatches = [
      [good, { ...good, type: 'liked' }],
      [good, { ...good, decisionId: 'not-a-uuid' }],
      [good, { ...good, extra: 1 }],
      [good, { ...good, at: 'yesterday' }],
      [good, { decisionId: d.decisionId, userId: 'user-1', type: 'shown' }],
      [],
      Array.from({ length: 501 }, () => good)
    ]
    for (const batch of badBatches) {
      const res = await api.events(batch)
      expect(res.status, JSON.stringify(batch).slice(0, 200)).toBe(400)
      expect(res.body.error).toBe('bad_request')
    }
    expect((await api.eventsRaw('{"events": [')).status).toBe(400)
    const huge = JSON.stringify({ events: [{ ...good, userId: 'u'.repeat(256) }], pad: 'x'.repeat(300 * 1024) })
    const tooBig = await api.eventsRaw(huge)
    expect(tooBig.status).toBe(413)
    expect(tooBig.body.error).toBe('payload_too_large')
    expect((await ask(['b'])).candidates[0]).toMatchObject({ reason: 'cap_exceeded' }) // the discard was never applied
    expect((await api.events([good])).body).toEqual({ accepted: 1, rejected: [] })
  })

  it('takes 500 events in one batch, for many users', async () => {
    const api = await start()
    const decisions = await Promise.all(Array.from({ length: 250 }, async (_, i) => [`bulk-${i}`, await ask(['a'], `bulk-${i}`)] as const))
    const batch = decisions.flatMap(([userId, d]) => [event(d, 'shown', userId), event(d, 'clicked', userId)])
    expect(batch).toHaveLength(500)
    expect((await api.events(batch)).body).toEqual({ accepted: 500, rejected: [] })
  })

  it('tells observers each event\'s type and outcome, without user ids', async () => {
    const api = await start()
    const seen: EventRecord[] = []
    t!.app.events.onEvent((r) => seen.push(r))
    const d = await ask(['a'])
    await api.events([event(d, 'shown'), event(d, 'shown'), { ...event(d, 'clicked'), decisionId: randomUUID() }])
    const receivedAt = expect.any(Number)
    expect(seen).toEqual([
      { type: 'shown', campaignId: 'a', outcome: 'accepted', cohort: 'treated', receivedAt, dayShows: 1 },
      { type: 'shown', campaignId: 'a', outcome: 'duplicate', cohort: 'treated', receivedAt, dayShows: 0 },
      { type: 'clicked', campaignId: 'a', outcome: 'unknown_decision', cohort: 'treated', receivedAt, dayShows: 0 }
    ])
  })
})
