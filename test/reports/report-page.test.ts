import { mkdirSync, readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { parse } from 'csv-parse/sync'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { campaign, policy, TestClock, uniquePrefix } from '../helpers/app.js'
import { reportApp, type ReportApp } from '../helpers/reports.js'
import { normal, poisson, seeded } from '../helpers/holdout-sim.js'

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync']
const DAYS = 7
const clock = new TestClock(Date.now() - (DAYS - 1) * 86_400_000)
const campaigns = ['spring-sale', 'cashback-weekend', 'quick-loan', 'travel-insurance', 'gold-membership']
/** The registry name the page shows: "quick-loan" is called "Quick loan". */
const nameOf = (id: string): string => id[0]!.toUpperCase() + id.slice(1).replaceAll('-', ' ')
/** Where the test writes the page's picture for docs/marketers.md: only when asked (`npm run screenshot`), so a test run leaves the tree clean. */
const SCREENSHOT = process.env.POPGUARD_SCREENSHOT
/** Markup in free text a person typed: it must show as these characters and never run. */
const HOSTILE_NAME = '<img src=x onerror="window.__pwned=\'name\'">'
const HOSTILE_REASON = '<script>window.__pwned=\'reason\'</script><img src=x onerror="window.__pwned=\'reason\'">'
const CSP_HEADER = 'content-security-policy'

let t: ReportApp
let base: string
let browser: Browser

/** A page that records every Content-Security-Policy violation in window.__violations. */
async function watchedPage (viewport = { width: 1280, height: 900 }): Promise<Page> {
  const page = await browser.newPage({ viewport })
  await page.addInitScript({
    content: `window.__violations = []
      document.addEventListener('securitypolicyviolation', (e) => { window.__violations.push(e.violatedDirective + ' ' + e.blockedURI) })`
  })
  return page
}

async function signIn (page: Page, url: string): Promise<void> {
  await page.goto(url + '/reports')
  await page.fill('#key', 'dev-reports-key')
  await page.click('#login button[type=submit]')
  await page.waitForSelector('body[data-loaded=true]', { timeout: 15_000 })
}

/**
 * A week of traffic: users ask a heavy-tailed number of times a day (a few of them all day long);
 * treated users are capped at one pop-up a day. The app reports what it showed through the events API.
 */
async function week (): Promise<void> {
  const r = seeded(7)
  for (let d = 0; d < DAYS; d++) {
    const users = 130 + d * 8
    const events: Record<string, unknown>[] = []
    for (let u = 0; u < users; u++) {
      const asks = Math.min(30, poisson(r, Math.exp(0.8 + 1.1 * normal(r))))
      for (let ask = 0; ask < asks; ask++) {
        const first = campaigns[(u + ask) % campaigns.length] as string
        const candidates = [{ campaignId: first }, { campaignId: campaigns[(u + d) % campaigns.length] as string }]
        const userId = `page-user-${u}`
        const answer = await t.decide({ userId, placement: ask % 2 === 0 ? 'home' : 'feed', candidates, context: ask === 3 && u % 5 === 0 ? { activity: 'checkout' } : undefined })
        if (answer.show === null) continue
        const event = (type: string) => ({ decisionId: answer.decisionId, userId, campaignId: answer.show.campaignId, type })
        events.push(event('shown'))
        if (u % 3 === 0) events.push(event('dismissed'))
        if (answer.show.campaignId === 'quick-loan' && u % 4 === 0) events.push(event('complained'))
      }
    }
    for (let i = 0; i < events.length; i += 500) await t.events(events.slice(i, i + 500))
    // A few users who asked for nothing switch marketing off that day (1-3 a day).
    for (let k = 0; k <= d % 3; k++) {
      const res = await t.app.inject({ method: 'PUT', url: `/v1/users/quitter-${d}-${k}/preferences`, headers: { authorization: 'Bearer dev-preferences-key' }, payload: { marketing: 'off' } })
      expect(res.statusCode).toBe(200)
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
      holdout: { percent: 30, salt: 'page-test' }
    }),
    campaigns: campaigns.map((id, i) => campaign(id, { name: nameOf(id), priority: 80 - i * 10, category: id === 'quick-loan' ? 'loans' : 'promo' }))
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

  it('signs in with the reports key, loads the data and draws every chart, within its Content-Security-Policy', async () => {
    const page = await watchedPage()
    await signIn(page, base)

    expect(await page.textContent('#fig-holdout')).toMatch(/^\d+\.\d%$/)
    expect(await page.textContent('#fig-holdout-detail')).toMatch(/^95% CI -?\d+\.\d% to -?\d+\.\d%$/)
    expect(await page.textContent('#fig-holdout-cohorts')).toMatch(/^Treated: [\d,]+ user-days, \d+\.\d\d shown per user \(sd \d+\.\d\d\) · Holdout: [\d,]+ user-days, \d+\.\d\d shown per user \(sd \d+\.\d\d\)$/)
    expect(await page.textContent('#method')).toContain('how much the number of pop-ups per user varies within each cohort')
    expect(await page.locator('#chart-reduction line.whisker').count()).toBeGreaterThanOrEqual(DAYS)
    expect(await page.locator('#sizing tbody tr').allTextContents()).toEqual([1, 2, 5, 10, 20].map((p) => expect.stringMatching(new RegExp(`^${p}%(± \\d+\\.\\d pts){3}$`))))
    expect(await page.locator('#chart-reduction path.series').count()).toBe(2)
    expect(await page.locator('#chart-reduction circle.point').count()).toBeGreaterThanOrEqual(DAYS)
    expect(await page.locator('#chart-outcomes rect.bar').count()).toBeGreaterThanOrEqual(DAYS * 2)
    expect(await page.locator('#chart-suppressed rect.bar').count()).toBe(campaigns.length)
    expect(await page.locator('#chart-complaints rect.bar').count()).toBe(1)
    expect(await page.locator('#chart-preferences rect.bar').count()).toBe(DAYS) // one opt-out bar a day, nothing else
    expect(await page.textContent('#chart-preferences')).toContain('all marketing off')
    expect(await page.textContent('#chart-complaints')).toContain('Quick loan')
    expect(await page.locator('#penalties tbody tr').count()).toBe(1)
    expect(await page.textContent('#penalties tbody')).toContain('Aggressive copy')
    expect(await page.evaluate('window.__violations')).toEqual([])
    // The key stays in this tab only.
    expect(await page.evaluate('window.sessionStorage.getItem("popguard-reports-key")')).toBe('dev-reports-key')
    expect(await page.evaluate('window.localStorage.length')).toBe(0)

    mkdirSync('test-output', { recursive: true })
    await page.screenshot({ path: 'test-output/report-page.png', fullPage: true })
    if (SCREENSHOT !== undefined && SCREENSHOT !== '') await page.screenshot({ path: SCREENSHOT, fullPage: true })
    await page.close()
  })

  it('serves the page and its files with a strict Content-Security-Policy, no framing and no sniffing; the API without them', async () => {
    for (const url of ['/reports', '/reports/app.js', '/reports/style.css']) {
      const res = await t.app.inject(url)
      expect(res.statusCode, url).toBe(200)
      const csp = Object.fromEntries(String(res.headers[CSP_HEADER]).split(';').map((d) => d.trim().split(/\s+/)).map(([name, ...values]) => [name, values.join(' ')]))
      expect(csp, url).toEqual({
        'default-src': "'none'",
        'script-src': "'self'",
        'style-src': "'self'",
        'connect-src': "'self'",
        'img-src': "'self'",
        'base-uri': "'none'",
        'form-action': "'none'",
        'frame-ancestors': "'none'",
        'require-trusted-types-for': "'script'",
        'trusted-types': "'none'"
      })
      expect(res.headers['x-content-type-options'], url).toBe('nosniff')
      expect(res.headers['x-frame-options'], url).toBe('DENY')
      expect(res.headers['referrer-policy'], url).toBe('no-referrer')
    }
    for (const url of ['/healthz', '/docs', '/v1/reports/daily?from=2026-01-01&to=2026-01-02']) {
      expect((await t.app.inject(url)).headers[CSP_HEADER], url).toBeUndefined()
    }
  })

  it('refuses to be framed by another page', async () => {
    // The framing page comes from a server of its own on loopback (another origin, same address space).
    const framer = createServer((_req, res) => {
      res.setHeader('content-type', 'text/html')
      res.end(`<iframe src="${base}/reports" onload="document.body.dataset.framed = 'done'"></iframe>`)
    })
    await new Promise<void>((resolve) => framer.listen(0, '127.0.0.1', resolve))
    const page = await watchedPage()
    try {
      await page.goto(`http://127.0.0.1:${(framer.address() as AddressInfo).port}/`)
      // The iframe's load event fires whether the page loaded in it or the browser refused it.
      await page.waitForSelector('body[data-framed=done]', { state: 'attached' })
      const framed = page.frames().filter((f) => f !== page.mainFrame())
      expect(framed.length).toBe(1)
      // A refused frame never gets the page's document: no login form inside it.
      expect(await framed[0]!.locator('#login').count()).toBe(0)
    } finally {
      await page.close()
      framer.close()
    }
  })
})

describe('the report page with hostile campaign text', () => {
  let hostile: ReportApp
  let url: string
  beforeAll(async () => {
    hostile = await reportApp('memory', {
      policy: policy({ caps: [{ id: 'daily', per: 'user', limit: 1, window: 'calendarDay' }] }),
      campaigns: [campaign('hostile', { name: HOSTILE_NAME, category: HOSTILE_NAME }), campaign('plain')]
    }, uniquePrefix())
    for (let u = 0; u < 5; u++) {
      await hostile.decide({ userId: `hostile-user-${u}`, placement: 'home', candidates: [{ campaignId: 'plain' }] })
      await hostile.decide({ userId: `hostile-user-${u}`, placement: 'home', candidates: [{ campaignId: 'hostile' }] })
    }
    const penalty = await hostile.app.inject({
      method: 'POST',
      url: '/v1/campaigns/hostile/penalties',
      headers: { authorization: 'Bearer dev-admin-key', 'if-match': '*' },
      payload: { action: 'suspend', reason: HOSTILE_REASON }
    })
    expect(penalty.statusCode, penalty.body).toBeLessThan(300)
    url = await hostile.app.listen({ port: 0, host: '127.0.0.1' })
  })
  afterAll(async () => { await hostile?.app.close() })

  it('shows a campaign name and a penalty reason full of markup as text, and nothing in them runs', async () => {
    const page = await watchedPage()
    await signIn(page, url)
    const cells = await page.locator('#penalties tbody tr td').allTextContents()
    expect(cells.slice(0, 3)).toEqual([HOSTILE_NAME, 'hostile', 'suspend'])
    expect(cells[3]).toBe(HOSTILE_REASON)
    expect(await page.textContent('#chart-suppressed')).toContain(HOSTILE_NAME.slice(0, 21))
    expect(await page.evaluate('window.__pwned')).toBeUndefined()
    expect(await page.locator('img').count()).toBe(0)
    expect(await page.locator('script').count()).toBe(1)
    expect(await page.evaluate('window.__violations')).toEqual([])
    // The browser enforces it too: a string handed to an HTML sink throws instead of becoming markup.
    const assigned = await page.evaluate(`(() => {
      try {
        document.body.insertAdjacentHTML('beforeend', '<img src=x onerror="window.__pwned=1">')
        return 'became markup'
      } catch (err) {
        return err.name
      }
    })()`)
    expect(assigned).toBe('TypeError')
    await page.close()
  })

  it('downloads the campaign CSV from the page under its policy, the markup in it kept as plain text', async () => {
    const page = await watchedPage()
    await signIn(page, url)
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#csv')])
    const rows = parse(readFileSync((await download.path())!, 'utf8'), { columns: true }) as Record<string, string>[]
    // Markup starts with '<', not a formula character: the CSV keeps it as it is; the page never renders the CSV.
    expect(rows.find((r) => r.campaignId === 'hostile')).toMatchObject({ name: HOSTILE_NAME, penaltyReason: HOSTILE_REASON })
    expect(await page.evaluate('window.__violations')).toEqual([])
    await page.close()
  })
})
