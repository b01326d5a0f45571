/**
 * The count behind each cohort's Σx² (docs/reports.md, "Per-user spread"): an accepted `shown` of
 * a marketing pop-up tells how many the user has been shown in the report day, k; a duplicate,
 * a rejected event or another class adds nothing, and a new report day starts again at 1.
 * Both stores give the same answers.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { EventRecord } from '../../src/services/events/event-service.js'
import { cohortOf } from '../../src/rules/decide/cohort.js'
import type { Policy } from '../../src/rules/policy/schema.js'
import { campaign, policy, CACHED_STORE_KINDS, TestClock, testApp, type TestApp } from '../helpers/app.js'
import { userControl } from '../helpers/user-control.js'

const HOUR = 3_600_000
const HOLDOUT = { percent: 50, salt: 'day-shows' }
const CAMPAIGNS = [campaign('a'), campaign('b'), campaign('update', { class: 'service', priority: 10 })]

describe.each(CACHED_STORE_KINDS)('the day count of a user\'s marketing pop-ups (%s store)', (kind) => {
  let t: TestApp | undefined
  afterEach(async () => { await t?.close(); t = undefined })

  /** Sends events and answers what the report counter was told of each: its outcome and k. */
  async function start (over: Partial<Policy> = {}, clock = new TestClock()) {
    t = await testApp(kind, { policy: policy(over), campaigns: CAMPAIGNS }, { clock })
    const api = userControl(t)
    const seen: EventRecord[] = []
    t.app.events.onEvent((r) => seen.push(r))
    return {
      clock,
      async send (events: Record<string, unknown>[]): Promise<[string, number][]> {
        seen.length = 0
        expect((await api.events(events)).status).toBe(202)
        return seen.map((r) => [r.outcome, r.dayShows])
      }
    }
  }
  const ask = async (ids: string[], userId = 'user-1') =>
    (await t!.decide({ userId, placement: 'home', candidates: ids.map((campaignId) => ({ campaignId })) })).body
  const shown = (d: any, userId = 'user-1') => ({ decisionId: d.decisionId, userId, campaignId: d.show.campaignId, type: 'shown' })

  it('counts 1, 2, 3 for a user\'s marketing pop-ups of the day, each user apart, and 0 for other classes and types', async () => {
    const { send } = await start()
    const [a1, a2, b1] = [await ask(['a']), await ask(['b']), await ask(['a'], 'user-2')]
    const update = await ask(['update'])
    expect(await send([shown(a1), shown(b1, 'user-2'), shown(update), shown(a2), { ...shown(a2), type: 'clicked' }]))
      .toEqual([['accepted', 1], ['accepted', 1], ['accepted', 0], ['accepted', 2], ['accepted', 0]])
    expect(await send([shown(await ask(['a']))])).toEqual([['accepted', 3]])
  })

  it('adds nothing for the same event twice, in a batch or later, nor for an event naming no decision', async () => {
    const { send } = await start()
    const [d1, d2] = [await ask(['a']), await ask(['a'])]
    expect(await send([shown(d1), shown(d1)])).toEqual([['accepted', 1], ['duplicate', 0]])
    expect(await send([shown(d1), { ...shown(d2), decisionId: '00000000-0000-4000-8000-000000000000' }]))
      .toEqual([['duplicate', 0], ['unknown_decision', 0]])
    expect(await send([shown(d2)])).toEqual([['accepted', 2]])
  })

  it('starts again at 1 in a new report day of the policy\'s zone, also for a pop-up decided the day before', async () => {
    // 23:00 in Shanghai (UTC+8): the report day ends in an hour.
    const { clock, send } = await start({ defaultTimezone: 'Asia/Shanghai' }, new TestClock(Date.parse('2026-06-01T15:00:00Z')))
    const [d1, late] = [await ask(['a']), await ask(['a'])]
    expect(await send([shown(d1)])).toEqual([['accepted', 1]])
    clock.advance(2 * HOUR)
    // Shown after midnight: it counts in the new day, where the report counts it.
    expect(await send([shown(late)])).toEqual([['accepted', 1]])
    expect(await send([shown(await ask(['a']))])).toEqual([['accepted', 2]])
  })

  it('keeps counting all day under a policy whose rules look back less than a day', async () => {
    const { clock, send } = await start({ caps: [{ id: 'hourly', per: 'user', limit: 1, window: '1h' }], reservation: { lease: '1m', unconfirmed: 'release' } })
    for (let k = 1; k <= 4; k++) {
      const d = await ask(['a'])
      expect(d.show).toEqual({ campaignId: 'a' })
      expect(await send([shown(d)])).toEqual([['accepted', k]])
      clock.advance(3 * HOUR)
    }
  })

  it('counts the holdout\'s uncapped pop-ups one by one', async () => {
    const { send } = await start({ caps: [{ id: 'daily', per: 'user', limit: 1, window: '1d' }], holdout: HOLDOUT })
    const user = Array.from({ length: 100 }, (_, i) => `holdout-${i}`).find((id) => cohortOf(id, HOLDOUT) === 'holdout')!
    const decisions = []
    for (let i = 0; i < 12; i++) decisions.push(await ask(['a'], user))
    expect(decisions.every((d) => d.show?.campaignId === 'a' && d.cohort === 'holdout')).toBe(true)
    expect(await send(decisions.map((d) => shown(d, user)))).toEqual(decisions.map((_, i) => ['accepted', i + 1]))
  })
})
