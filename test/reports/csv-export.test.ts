import { parse } from 'csv-parse/sync'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { campaign, policy, TestClock, uniquePrefix } from '../helpers/app.js'
import { REPORTS_AUTH, reportApp, type ReportApp } from '../helpers/reports.js'

const clock = new TestClock(Date.parse('2026-06-01T12:00:00Z'))
let t: ReportApp
beforeAll(async () => {
  t = await reportApp('memory', {
    policy: policy(),
    campaigns: [
      campaign('plain', { category: 'promo' }),
      // Names that need quoting: a comma, a quote, a line break.
      campaign('comma', { category: 'loans, "quick"\r\nand easy' })
    ]
  }, uniquePrefix(), clock)
  await t.decide({ userId: 'csv-user', placement: 'home', candidates: [{ campaignId: 'plain' }, { campaignId: 'comma' }] })
  t.app.reports.recordEvent({ type: 'shown', campaignId: 'plain', cohort: 'treated' })
  t.app.reports.recordEvent({ type: 'complained', campaignId: 'plain', cohort: 'treated' })
})
afterAll(async () => { await t.app.close() })

describe('the campaign report as CSV', () => {
  it('round-trips through a CSV parser to the same rows as the JSON', async () => {
    const json = await t.get('/v1/reports/campaigns?from=2026-06-01&to=2026-06-01')
    const csv = await t.get('/v1/reports/campaigns?from=2026-06-01&to=2026-06-01', { ...REPORTS_AUTH, accept: 'text/csv' })
    expect(csv.status).toBe(200)
    expect(csv.type).toMatch(/^text\/csv/)
    const rows = parse(csv.text, { columns: true }) as Record<string, string>[]
    expect(rows.map((r) => r.campaignId)).toEqual(json.body.campaigns.map((c: any) => c.campaignId))
    const comma = rows.find((r) => r.campaignId === 'comma')
    expect(comma?.category).toBe('loans, "quick"\r\nand easy')
    expect(comma?.suppressed_lower_priority).toBe('1')
    const plain = rows.find((r) => r.campaignId === 'plain')
    expect(plain).toMatchObject({ requested: '1', allowed: '1', shown: '1', complained: '1', complaintRate: '1', dismissRate: '0', penaltyAction: '' })
  })

  it('filters by category', async () => {
    const res = await t.get('/v1/reports/campaigns?from=2026-06-01&to=2026-06-01&category=promo')
    expect(res.body.campaigns.map((c: any) => c.campaignId)).toEqual(['plain'])
  })
})
