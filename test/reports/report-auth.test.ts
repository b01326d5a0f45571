import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { campaign, policy, uniquePrefix } from '../helpers/app.js'
import { reportApp, type ReportApp } from '../helpers/reports.js'

let t: ReportApp
beforeAll(async () => { t = await reportApp('memory', { policy: policy(), campaigns: [campaign('a')] }, uniquePrefix()) })
afterAll(async () => { await t.app.close() })

const RANGE = '?from=2026-06-01&to=2026-06-07'

describe('the reports API', () => {
  it.each(['/v1/reports/daily', '/v1/reports/campaigns'])('%s: 401 without a key, 403 with a key lacking `reports`, 200 with it', async (path) => {
    expect((await t.get(path + RANGE, {})).status).toBe(401)
    expect((await t.get(path + RANGE, { authorization: 'Bearer not-a-real-key' })).status).toBe(401)
    const forbidden = await t.get(path + RANGE, { authorization: 'Bearer dev-client-key' })
    expect(forbidden.status).toBe(403)
    expect(forbidden.body).toEqual({ error: 'forbidden', message: expect.stringContaining('reports') })
    expect((await t.get(path + RANGE)).status).toBe(200)
    expect((await t.get(path + RANGE, { authorization: 'Bearer dev-admin-key' })).status).toBe(200)
  })

  it.each([
    ['to before from', '?from=2026-06-07&to=2026-06-01'],
    ['more than 400 days', '?from=2025-01-01&to=2026-06-01'],
    ['a day that does not exist', '?from=2026-02-30&to=2026-03-01'],
    ['a malformed day', '?from=2026-6-1&to=2026-06-02'],
    ['no range', '']
  ])('refuses %s with 400', async (_, query) => {
    const res = await t.get('/v1/reports/daily' + query)
    expect(res.status).toBe(400)
    expect(res.body.error).toBe('bad_request')
  })

  it('accepts exactly 400 days, one per row', async () => {
    const res = await t.get('/v1/reports/daily?from=2025-05-28&to=2026-07-01')
    expect(res.status).toBe(200)
    expect(res.body.days).toHaveLength(400)
  })

  it('serves the report page without a key, with no data in it', async () => {
    const res = await t.get('/reports', {})
    expect(res.status).toBe(200)
    expect(res.type).toMatch(/^text\/html/)
    expect(res.text).toContain('id="login"')
    expect((await t.get('/reports/app.js', {})).type).toMatch(/javascript/)
  })
})
