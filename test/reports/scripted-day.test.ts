import { afterAll, describe, expect, it } from 'vitest'
import { cohortOf } from '../../src/rules/decide/cohort.js'
import { campaign, policy, TestClock, uniquePrefix } from '../helpers/app.js'
import { reportApp, type ReportApp } from '../helpers/reports.js'

// 20:00 UTC is already the next day in Shanghai, the policy's zone: the report day is 2026-06-02.
const clock = new TestClock(Date.parse('2026-06-01T20:00:00Z'))
const HOLDOUT = { percent: 50, salt: 'scripted-day' }
const file = {
  policy: policy({ defaultTimezone: 'Asia/Shanghai', caps: [{ id: 'daily', per: 'user', limit: 1, window: '1d' }], holdout: HOLDOUT }),
  campaigns: [
    campaign('spring-sale', { priority: 50 }),
    campaign('cashback', { priority: 40 }),
    campaign('app-update', { class: 'service', category: 'app', priority: 70 })
  ]
}

/** Users picked so that three are treated and two are in the holdout. */
function pickUsers (): { treated: string[], holdout: string[] } {
  const treated: string[] = []
  const holdout: string[] = []
  for (let i = 0; treated.length < 3 || holdout.length < 2; i++) {
    const id = `day-user-${i}`
    const list = cohortOf(id, HOLDOUT) === 'treated' ? treated : holdout
    if (list.length < (list === treated ? 3 : 2)) list.push(id)
  }
  return { treated, holdout }
}

describe('a scripted day of traffic across two instances on one Redis', () => {
  const prefix = uniquePrefix()
  const apps: ReportApp[] = []
  afterAll(async () => { await Promise.all(apps.map(async (a) => await a.app.close())) })

  it('is counted exactly, once, in the policy\'s day', async () => {
    apps.push(await reportApp('redis', file, prefix, clock), await reportApp('redis', file, prefix, clock))
    const [one, two] = apps as [ReportApp, ReportApp]
    const { treated, holdout } = pickUsers()
    const pair = [{ campaignId: 'spring-sale' }, { campaignId: 'cashback' }]

    // Every user asks twice, once on each instance: the first answer shows spring-sale.
    // Treated users then hit the daily cap; holdout users are never suppressed.
    const firsts: Record<string, string> = {}
    const seconds: Record<string, string> = {}
    for (const user of [...treated, ...holdout]) {
      const first = await one.decide({ userId: user, placement: 'home', candidates: pair })
      expect(first.show).toEqual({ campaignId: 'spring-sale' })
      firsts[user] = first.decisionId
      seconds[user] = (await two.decide({ userId: user, placement: 'home', candidates: pair })).decisionId
    }
    // A campaign nobody registered, a service message, and one retried request (counted once).
    await one.decide({ userId: treated[0], placement: 'home', candidates: [{ campaignId: 'made-up' }] })
    await two.decide({ userId: treated[1], placement: 'home', candidates: [{ campaignId: 'app-update' }] })
    const retried = { userId: treated[2], placement: 'feed', candidates: [{ campaignId: 'cashback' }], requestId: 'retry-1' }
    await one.decide(retried)
    expect((await one.decide(retried)).decisionId).toBeDefined()
    // Confirmed impressions, on either instance: 2 treated, 3 holdout; one dismissal; one event
    // sent twice (counted once) and one naming no decision (rejected, not counted).
    const shown = (user: string, decisionId: string) => ({ decisionId, userId: user, campaignId: 'spring-sale', type: 'shown' })
    const [t0, t1] = treated as [string, string]
    const [h0, h1] = holdout as [string, string]
    expect(await one.events([shown(t0, firsts[t0]!), shown(h0, firsts[h0]!), shown(h0, seconds[h0]!)])).toBe(3)
    expect(await two.events([shown(t1, firsts[t1]!), shown(h1, firsts[h1]!), shown(t1, firsts[t1]!)])).toBe(2)
    expect(await two.events([{ decisionId: firsts[t0], userId: t0, campaignId: 'spring-sale', type: 'dismissed' }])).toBe(1)
    expect(await one.events([shown(t1, '00000000-0000-4000-8000-000000000000')])).toBe(0)

    await one.app.reports.flusher.flush()
    await two.app.reports.flusher.flush()
    const res = await one.get('/v1/reports/daily?from=2026-06-01&to=2026-06-02')
    expect(res.status).toBe(200)
    const [before, day] = res.body.days
    expect(before).toMatchObject({ day: '2026-06-01', decisions: 0, requested: 0 })
    // 10 pair decisions (20 candidates) + 1 + 1 + 1 (the retry is not counted again).
    expect(day).toMatchObject({ day: '2026-06-02', decisions: 13, requested: 23, shown: 5, degraded: 0 })
    // Allowed: 5 first answers, 2 holdout second answers, the service message; the retried cashback hits
    // treated[2]'s cap (spring-sale already shown today).
    expect(day.allowed).toBe(8)
    // Suppressed: first answers lose cashback (5 lower_priority); treated second answers: 2 × 3 cap_exceeded;
    // holdout second answers show spring-sale over an unenforced cap and cashback keeps its verdict
    // (2 cap_exceeded); made-up: campaign_unknown; the retried cashback: cap_exceeded.
    expect(day.suppressed).toEqual({ lower_priority: 5, cap_exceeded: 9, campaign_unknown: 1 })
    expect(day.marketing).toMatchObject({ requested: 11, allowed: 7, shown: 5 })
    expect(day.holdout.treated).toMatchObject({ users: 3, shown: 2 })
    expect(day.holdout.holdout).toMatchObject({ users: 2, shown: 3 })
    expect(day.holdout.reduction).toBeCloseTo(1 - (2 / 3) / (3 / 2), 10)

    const campaigns = await two.get('/v1/reports/campaigns?from=2026-06-02&to=2026-06-02')
    const byId = Object.fromEntries(campaigns.body.campaigns.map((c: any) => [c.campaignId, c]))
    expect(byId['spring-sale']).toMatchObject({ requested: 10, allowed: 7, shown: 5, dismissed: 1, suppressed: { cap_exceeded: 3 } })
    expect(byId['spring-sale'].dismissRate).toBeCloseTo(0.2, 10)
    expect(byId.cashback).toMatchObject({ requested: 11, allowed: 0, suppressed: { lower_priority: 5, cap_exceeded: 6 } })
    expect(byId['app-update']).toMatchObject({ requested: 1, allowed: 1 })
    expect(byId['(unknown)']).toMatchObject({ requested: 1, suppressed: { campaign_unknown: 1 } })
    expect(byId['made-up']).toBeUndefined()
  })
})
