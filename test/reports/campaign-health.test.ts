import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CampaignInfo, CampaignRow } from '../../src/rules/reports/campaigns.js'
import { unhealthyCampaigns, type HealthRule } from '../../src/rules/reports/health.js'
import { campaign, policy, TestClock, uniquePrefix } from '../helpers/app.js'
import { reportApp, type ReportApp } from '../helpers/reports.js'

const RULE: HealthRule = { minImpressions: 500, window: '7d', complaintRate: 0.01, dismissRate: 0.6, action: 'limit' }
const info = (id: string, over: Partial<CampaignInfo> = {}): CampaignInfo => ({ id, name: id, class: 'marketing', category: 'promo', status: 'active', penalty: null, ...over })
const row = (id: string, shown: number, complained: number, dismissed = 0): CampaignRow => ({
  ...{ campaignId: id, name: id, class: 'marketing', category: 'promo', status: 'active', requested: shown, allowed: shown, suppressed: {} },
  ...{ shown, dismissed, complained, clicked: 0, converted: 0, discarded: 0, dismissRate: null, complaintRate: null, penalty: null }
})
const judged = (rows: CampaignRow[], registry = rows.map((r) => info(r.campaignId))) => unhealthyCampaigns(rows, registry, RULE).map((f) => f.campaignId)

describe('the campaign-health rule', () => {
  it('fires at the complaint threshold, not below it', () => {
    expect(judged([row('at', 500, 5), row('below', 500, 4), row('over', 1000, 11)])).toEqual(['at', 'over'])
  })

  it('fires at the dismiss threshold, not below it', () => {
    expect(judged([row('at', 500, 0, 300), row('below', 500, 0, 299)])).toEqual(['at'])
  })

  it('waits for the minimum impressions', () => {
    expect(judged([row('few', 499, 100, 400), row('enough', 500, 100, 400)])).toEqual(['enough'])
  })

  it('leaves alone campaigns already penalised, and those not marketing', () => {
    const penalty = { action: 'suspend', reason: 'copy', until: null, by: 'compliance' }
    expect(judged([row('penalised', 900, 90), row('service', 900, 90)], [info('penalised', { penalty }), info('service', { class: 'service' })])).toEqual([])
  })

  it('says why, with the figures', () => {
    expect(unhealthyCampaigns([row('x', 500, 5, 300)], [info('x')], RULE)[0]?.reason)
      .toBe('health: complaint rate 1.0% >= 1.0%, dismiss rate 60.0% >= 60.0% over 500 impressions in 7d')
  })
})

describe('automatic health penalties in a running app', () => {
  const clock = new TestClock(Date.parse('2026-06-10T12:00:00Z'))
  let t: ReportApp
  beforeAll(async () => {
    t = await reportApp('redis', {
      policy: policy({ health: { minImpressions: 10, window: '7d', complaintRate: 0.1, action: 'suspend', duration: '14d' } }),
      campaigns: ['noisy', 'almost', 'calm', 'old-noise'].map((id) => campaign(id))
    }, uniquePrefix(), clock)
  })
  afterAll(async () => { await t.app.close() })

  const feed = (campaignId: string, shown: number, complained: number) => {
    for (let i = 0; i < shown; i++) t.app.reports.recordEvent({ type: 'shown', campaignId, cohort: 'treated' })
    for (let i = 0; i < complained; i++) t.app.reports.recordEvent({ type: 'complained', campaignId, cohort: 'treated' })
  }
  const healthAudit = async () => {
    const res = await t.app.inject({ url: '/v1/audit?limit=100', headers: { authorization: 'Bearer dev-admin-key' } })
    return (res.json().items as any[]).filter((e) => e.by === 'system:health')
  }

  it('suspends the campaign at the threshold, audited as system:health, and shows it in the report', async () => {
    // Eight days ago, outside the 7-day window: too few to judge then, and not counted now
    // (with them, old-noise would have 14 impressions and 5 complaints).
    clock.ms -= 8 * 86_400_000
    feed('old-noise', 9, 5)
    await t.app.reports.flusher.flush()
    clock.ms += 8 * 86_400_000

    feed('noisy', 10, 1) // 10% of 10: at the threshold
    feed('almost', 9, 1) // 11%, but under 10 impressions
    feed('calm', 11, 1) // 9.1%: below
    feed('old-noise', 5, 0)
    await t.app.reports.flusher.flush()

    const audit = await healthAudit()
    expect(audit.map((e) => [e.action, e.target])).toEqual([['penalty.apply', 'campaign:noisy']])
    expect(audit[0].reason).toContain('complaint rate 10.0% >= 10.0% over 10 impressions in 7d')

    const report = await t.get('/v1/reports/campaigns?from=2026-06-04&to=2026-06-10')
    const byId = Object.fromEntries(report.body.campaigns.map((c: any) => [c.campaignId, c]))
    expect(byId.noisy.penalty).toMatchObject({ action: 'suspend', by: 'system:health', until: '2026-06-24T12:00:00.000Z' })
    expect(byId.calm.penalty).toBeNull()
    expect(byId.almost.penalty).toBeNull()
    expect(byId['old-noise'].penalty).toBeNull()

    const answer = await t.decide({ userId: 'health-user', placement: 'home', candidates: [{ campaignId: 'noisy' }] })
    expect(answer.candidates[0].reason).toBe('campaign_inactive')
  })

  it('does not penalise the same campaign again on the next flush', async () => {
    feed('noisy', 1, 1)
    await t.app.reports.flusher.flush()
    expect(await healthAudit()).toHaveLength(1)
  })
})
