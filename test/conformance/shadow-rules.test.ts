/**
 * Per-rule shadow mode (`"mode": "shadow"` on a cap, the cooldown, quiet hours, fatigue), run against
 * both stores (evaluate.ts and decide.lua): the rule is reported in the decision record, never applied.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { PolicyFile } from '../../src/rules/policy/schema.js'
import type { DecisionRecord } from '../../src/services/decide/decision-service.js'
import { AUTH, campaign, policy, STORE_KINDS, TestClock, testApp, type TestApp } from '../helpers/app.js'

const MINUTE = 60_000

describe.each(STORE_KINDS)('rules in shadow mode (%s store)', (kind) => {
  let t: TestApp | undefined
  let records: DecisionRecord[] = []
  afterEach(async () => { await t?.close(); t = undefined; records = [] })

  async function start (file: PolicyFile, clock = new TestClock()): Promise<TestApp> {
    t = await testApp(kind, file, { clock })
    t.app.decisions.onDecision((r) => records.push(r))
    return t
  }
  const ask = async (ids: string[], userId = 'user-1') => {
    const res = await t!.decide({ userId, placement: 'home', candidates: ids.map((campaignId) => ({ campaignId })) })
    expect(res.status).toBe(200)
    return { body: res.body, shadows: records.at(-1)?.shadows }
  }

  it('a cap in shadow mode reports the pop-up it would have stopped and lets it through', async () => {
    await start({ policy: policy({ caps: [{ id: 'daily', per: 'user', limit: 1, window: '1d', mode: 'shadow' }] }), campaigns: [campaign('a')] })
    const first = await ask(['a'])
    expect(first.body.show).toEqual({ campaignId: 'a' })
    expect(first.shadows).toBeUndefined()
    const second = await ask(['a'])
    expect(second.body.show).toEqual({ campaignId: 'a' })
    expect(second.body.candidates).toEqual([{ campaignId: 'a', allowed: true, reason: 'eligible' }])
    expect(second.shadows).toEqual([{ reason: 'cap_exceeded', capId: 'daily' }])
  })

  it('an applied rule that stops the candidate wins over a shadow one, which is then not reported', async () => {
    await start({
      policy: policy({
        caps: [
          { id: 'soft', per: 'user', limit: 1, window: '1d', mode: 'shadow' },
          { id: 'hard', per: 'user', limit: 2, window: '1d' }
        ]
      }),
      campaigns: [campaign('a'), campaign('b', { priority: 10 })]
    })
    await ask(['a'])
    const second = await ask(['a', 'b'])
    expect(second.body.show).toEqual({ campaignId: 'a' })
    // The losing candidate keeps its shadow verdict: it too would have been stopped.
    expect(second.body.candidates[1]).toEqual({ campaignId: 'b', allowed: false, reason: 'lower_priority' })
    expect(second.shadows).toEqual([{ reason: 'cap_exceeded', capId: 'soft' }, { reason: 'cap_exceeded', capId: 'soft' }])
    const third = await ask(['a'])
    expect(third.body.candidates).toEqual([{ campaignId: 'a', allowed: false, reason: 'cap_exceeded', capId: 'hard', retryAfterSeconds: 86_400 }])
    expect(third.shadows).toBeUndefined()
  })

  it('a cooldown in shadow mode', async () => {
    const clock = new TestClock()
    await start({ policy: policy({ cooldown: { duration: '10m', mode: 'shadow' } }), campaigns: [campaign('a')] }, clock)
    await ask(['a'])
    clock.advance(MINUTE)
    const second = await ask(['a'])
    expect(second.body.show).toEqual({ campaignId: 'a' })
    expect(second.shadows).toEqual([{ reason: 'cooldown' }])
    clock.advance(10 * MINUTE)
    expect((await ask(['a'])).shadows).toBeUndefined()
  })

  it('quiet hours in shadow mode, for marketing and service pop-ups alike', async () => {
    const clock = new TestClock(Date.parse('2026-06-01T23:30:00Z'))
    await start({
      policy: policy({ quietHours: { start: '22:00', end: '08:00', mode: 'shadow' } }),
      campaigns: [campaign('promo'), campaign('update', { class: 'service', priority: 10 })]
    }, clock)
    const night = await ask(['promo', 'update'])
    expect(night.body.show).toEqual({ campaignId: 'promo' })
    expect(night.body.candidates.map((c: any) => c.reason)).toEqual(['eligible', 'lower_priority'])
    expect(night.shadows).toEqual([{ reason: 'quiet_hours' }, { reason: 'quiet_hours' }])
  })

  it('fatigue in shadow mode: a dismissed campaign is not backed off, but reported', async () => {
    const clock = new TestClock()
    await start({
      policy: policy({ fatigue: { dismissals: 1, within: '1d', backoff: '1d', mode: 'shadow' } }),
      campaigns: [campaign('a')]
    }, clock)
    const first = await ask(['a'])
    const res = await t!.app.inject({
      method: 'POST', url: '/v1/events', headers: AUTH, payload: { events: [{ decisionId: first.body.decisionId, userId: 'user-1', campaignId: 'a', type: 'dismissed' }] }
    })
    expect(res.statusCode).toBeLessThan(300)
    clock.advance(MINUTE)
    const second = await ask(['a'])
    expect(second.body.show).toEqual({ campaignId: 'a' })
    expect(second.shadows).toEqual([{ reason: 'fatigue' }])
  })

  it('in the global shadow mode a per-rule shadow rule is still only reported', async () => {
    await start({
      policy: policy({ mode: 'shadow', caps: [{ id: 'soft', per: 'user', limit: 1, window: '1d', mode: 'shadow' }, { id: 'hard', per: 'user', limit: 1, window: '1d' }] }),
      campaigns: [campaign('a')]
    })
    await ask(['a'])
    const second = await ask(['a'])
    expect(second.body.show).toEqual({ campaignId: 'a' })
    expect(second.body.candidates).toEqual([{ campaignId: 'a', allowed: true, reason: 'cap_exceeded', capId: 'hard', retryAfterSeconds: 86_400, enforced: false }])
    expect(second.shadows).toBeUndefined()
  })
})
