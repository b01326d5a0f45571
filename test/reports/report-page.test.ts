import { mkdirSync } from 'node:fs'
import { chromium, type Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { campaign, policy, TestClock, uniquePrefix } from '../helpers/app.js'
import { reportApp, type ReportApp } from '../helpers/reports.js'

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync']
const DAYS = 7
const clock = new TestClock(Date.now() - (DAYS - 1) * 86_400_000)
const campaigns = ['spring-sale', 'cashback-weekend', 'quick-loan', 'travel-insurance', 'gold-membership']

let t: ReportApp
let base: string
let browser: Browser

/** A week of traffic: every user asks four times a day; treated users are capped at one pop-up a day. */
async function week (): Promise<void> {
  for (let d = 0; d < DAYS; d++) {
    const users = 40 + d * 6
    for (let u = 0; u < users; u++) {
      for (let ask = 0; ask < 4; ask++) {
        const first = campaigns[(u + ask) % campaigns.length] as string
        const candidates = [{ campaignId: first }, { campaignId: campaigns[(u + d) % campaigns.length] as string }]
        const answer = await t.decide({ userId: `page-user-${u}`, placement: ask % 2 === 0 ? 'home' : 'feed', candidates, context: ask === 3 && u % 5 === 0 ? { activity: 'checkout' } : undefined })
        if (answer.show === null) continue
        const cohort = answer.cohort
        t.app.reports.recordEvent({ type: 'shown', campaignId: answer.show.campaignId, cohort })
        if (u % 3 === 0) t.app.reports.recordEvent({ type: 'dismissed', campaignId: answer.show.campaignId, cohort })
        if (answer.show.campaignId === 'quick-loan' && u % 4 === 0) t.app.reports.recordEvent({ type: 'complained', campaignId: 'quick-loan', cohort })
      }
    }
    clock.advance(86_400_000)
    clock.ms = Math.min(clock.ms, Date.now())
  }
}

beforeAll(async () => {
  t = await reportApp('memory', {
    policy: policy({
      caps: [{ id: 'daily', per: 'user', limit: 1, window: 'calendarDay' }],
      doNotInterrupt: ['checkout'],
      holdout: { percent: 20, salt: 'page-test' }
    }),
    campaigns: campaigns.map((id, i) => campaign(id, { priority: 80 - i * 10, category: id === 'quick-loan' ? 'loans' : 'promo' }))
  }, uniquePrefix(), clock)
  await week()
  const penalty = await t.app.inject({
    method: 'POST',
    url: '/v1/campaigns/quick-loan/penalties',
    headers: { authorization: 'Bearer dev-admin-key', 'if-match': '*' },
    payload: { action: 'suspend', reason: 'Aggressive copy: "only today", misleading rate' }
  })
  expect(penalty.statusCode).toBeLessThan(300)
  base = await t.app.listen({ port: 0, host: '127.0.0.1' })
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS })
}, 60_000)
afterAll(async () => {
  await browser?.close()
  await t?.app.close()
})

describe('the report page in a browser', () => {
  it('shows no data before sign-in and refuses a wrong key', async () => {
    const page = await browser.newPage()
    await page.goto(base + '/reports')
    expect(await page.isVisible('#login')).toBe(true)
    expect(await page.isVisible('#dashboard')).toBe(false)
    const status = await page.evaluate(async () => (await fetch('/v1/reports/daily?from=2026-01-01&to=2026-01-02')).status)
    expect(status).toBe(401)
    await page.fill('#key', 'dev-client-key')
    await page.click('#login button[type=submit]')
    await page.waitForFunction('document.getElementById("login-error").textContent !== ""')
    expect(await page.textContent('#login-error')).toContain('reports')
    expect(await page.isVisible('#dashboard')).toBe(false)
    await page.close()
  })

  it('signs in with the reports key, loads the data and draws every chart', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
    await page.goto(base + '/reports')
    await page.fill('#key', 'dev-reports-key')
    await page.click('#login button[type=submit]')
    await page.waitForSelector('body[data-loaded=true]', { timeout: 15_000 })

    expect(await page.textContent('#fig-holdout')).toMatch(/^\d+\.\d%$/)
    expect(await page.textContent('#fig-holdout-detail')).toMatch(/95% CI/)
    expect(await page.locator('#chart-reduction path.series').count()).toBe(2)
    expect(await page.locator('#chart-reduction circle.point').count()).toBeGreaterThanOrEqual(DAYS)
    expect(await page.locator('#chart-outcomes rect.bar').count()).toBeGreaterThanOrEqual(DAYS * 2)
    expect(await page.locator('#chart-suppressed rect.bar').count()).toBe(campaigns.length)
    expect(await page.locator('#chart-complaints rect.bar').count()).toBe(1)
    expect(await page.textContent('#chart-complaints')).toContain('quick-loan')
    expect(await page.locator('#penalties tbody tr').count()).toBe(1)
    expect(await page.textContent('#penalties tbody')).toContain('Aggressive copy')
    // The key stays in this tab only.
    expect(await page.evaluate('window.sessionStorage.getItem("popguard-reports-key")')).toBe('dev-reports-key')
    expect(await page.evaluate('window.localStorage.length')).toBe(0)

    mkdirSync('test-output', { recursive: true })
    await page.screenshot({ path: 'test-output/report-page.png', fullPage: true })
    await page.close()
  })
})
