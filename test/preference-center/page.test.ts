/**
 * The preference centre in headless Chromium (one browser for the file): opened from a link,
 * one tap per change, each applied to the next decision; the snooze's end in the user's zone;
 * a link for one user never reaches another; a clear page for an expired link; Chinese; axe-core.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testApp, type TestApp } from '../helpers/app.js'
import { CENTER_POLICY, linkConfig, linkToken } from '../helpers/preference-links.js'

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync']
const AXE_SOURCE = createRequire(import.meta.url).resolve('axe-core/axe.min.js')
const PREFS_AUTH = { authorization: 'Bearer dev-preferences-key' }
/** Where the test writes the page's picture for the docs: only when asked (`npm run screenshot:preferences`). */
const SCREENSHOT = process.env.POPGUARD_PREFERENCES_SCREENSHOT
const PHONE = { width: 390, height: 844 }
/** How the page writes a time: its own zone named (docs/user-control.md). */
const WHEN = { weekday: 'long', year: 'numeric', month: 'long', day: 'numeric', hour: '2-digit', minute: '2-digit', timeZoneName: 'short' } as const

let t: TestApp
let base: string
let browser: Browser
const contexts: BrowserContext[] = []

beforeAll(async () => {
  t = await testApp('redis', CENTER_POLICY, { config: linkConfig() })
  base = await t.app.listen({ port: 0, host: '127.0.0.1' })
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS })
}, 60_000)
afterAll(async () => {
  for (const c of contexts) await c.close()
  await browser?.close()
  await t?.close()
})

/** A phone-sized page in a zone and language, recording Content-Security-Policy violations. */
async function phone (o: { timezoneId?: string, locale?: string } = {}): Promise<Page> {
  const context = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true, timezoneId: o.timezoneId ?? 'UTC', locale: o.locale ?? 'en-US' })
  contexts.push(context)
  const page = await context.newPage()
  await page.addInitScript({
    content: `window.__violations = []
      document.addEventListener('securitypolicyviolation', (e) => { window.__violations.push(e.violatedDirective + ' ' + e.blockedURI) })`
  })
  return page
}

async function open (page: Page, user: string, query = ''): Promise<void> {
  await page.goto(`${base}/preferences?${query}token=${await linkToken(user)}`)
  await page.waitForSelector('body[data-ready]', { timeout: 15_000 })
}

const decide = async (userId: string) =>
  (await t.decide({ userId, placement: 'home', candidates: [{ campaignId: 'quick-loan' }, { campaignId: 'spring-sale' }] })).body
const stored = async (userId: string) => (await t.app.inject({ method: 'GET', url: `/v1/users/${userId}/preferences`, headers: PREFS_AUTH })).json()
/** The change the last tap started has been answered (the page sets data-busy while one is under way). */
const settled = async (page: Page) => await page.waitForSelector('body:not([data-busy])', { state: 'attached' })

describe('the preference centre in a browser', () => {
  it('opens from a link (the token leaves the address bar), switches a category off in one tap, and the next decision suppresses it as opted_out', async () => {
    const page = await phone()
    await open(page, 'pc-alice')
    expect(await page.getAttribute('body', 'data-ready')).toBe('true')
    expect(page.url()).not.toContain('token')
    expect(await page.textContent('#recent')).toContain('no marketing pop-ups')
    // Names from the registry, and what is always on with its reason.
    expect(await page.textContent('label[for=category-0]')).toBe('Loans and credit')
    expect(await page.textContent('#always')).toContain('Security warnings')
    expect(await page.textContent('#always')).toContain('protect your account')
    expect((await decide('pc-alice')).show.campaignId).toBe('quick-loan')

    await page.getByRole('switch', { name: 'Loans and credit' }).click()
    await settled(page)
    expect(await page.textContent('#status')).toBe('Loans and credit is off. This applies from now on.')
    expect(await page.isChecked('[data-category=loans]')).toBe(false)
    const answer = await decide('pc-alice')
    expect(answer.candidates.find((c: any) => c.campaignId === 'quick-loan').reason).toBe('opted_out')
    expect(answer.show.campaignId).toBe('spring-sale')
    // The shown pop-up counts as "lately" on the next load.
    await page.reload()
    await page.waitForSelector('body[data-ready=true]')
    expect(await page.textContent('#recent')).toContain('shown 2 marketing pop-ups')

    await page.getByRole('switch', { name: 'Show marketing pop-ups' }).click()
    await settled(page)
    expect(await page.textContent('#status')).toBe('Marketing pop-ups are off. This applies from now on.')
    expect((await decide('pc-alice')).show).toBeNull()
    expect(await page.evaluate('window.__violations')).toEqual([])
  })

  it('snoozes for 1 day and shows when it ends in the user\'s time zone', async () => {
    const page = await phone({ timezoneId: 'Asia/Shanghai' })
    await open(page, 'pc-snooze')
    const before = Date.now()
    await page.getByRole('button', { name: '1 day' }).click()
    await settled(page)
    const until = (await stored('pc-snooze')).snoozeUntil as string
    expect(Date.parse(until)).toBeGreaterThanOrEqual(before + 86_400_000 - 1000)
    expect(Date.parse(until)).toBeLessThanOrEqual(Date.now() + 86_400_000)
    const shanghai = new Intl.DateTimeFormat('en', { ...WHEN, timeZone: 'Asia/Shanghai' }).format(new Date(until))
    expect(shanghai).toContain('GMT+8')
    expect(await page.textContent('#snooze-state')).toBe(`On a break until ${shanghai}.`)
    expect(await page.textContent('#status')).toContain(shanghai)
    expect((await decide('pc-snooze')).candidates.every((c: any) => c.reason === 'opted_out')).toBe(true)

    // By keyboard: the button hides once the break has ended, and the focus goes to the first break button.
    await page.focus('#snooze-end')
    await page.keyboard.press('Enter')
    await settled(page)
    expect(await page.textContent('#snooze-state')).toBe('No break is running.')
    expect(await page.isVisible('#snooze-end')).toBe(false)
    expect(await page.evaluate('document.activeElement.dataset.days')).toBe('1')
    expect((await stored('pc-snooze')).snoozeUntil).toBeNull()
  })

  it('with a link for user A, changes A only: B is untouched and the API refuses the token', async () => {
    const page = await phone()
    await open(page, 'pc-user-a')
    await page.getByRole('switch', { name: 'Sales and offers' }).click()
    await settled(page)
    expect((await stored('pc-user-a')).categories).toEqual({ promo: 'off' })
    expect((await stored('pc-user-b')).categories).toEqual({})
    // From the page, with A's token: the user API wants an API key, and the centre's routes name no user.
    const attempts = await page.evaluate(`(async () => {
      const headers = { authorization: 'Bearer ' + window.sessionStorage.getItem('popguard-preference-link'), 'content-type': 'application/json' }
      const put = await fetch('/v1/users/pc-user-b/preferences', { method: 'PUT', headers, body: JSON.stringify({ marketing: 'off' }) })
      const smuggled = await fetch('/v1/preference-center/marketing?userId=pc-user-b', { method: 'PUT', headers, body: JSON.stringify({ marketing: 'off' }) })
      return [put.status, smuggled.status]
    })()`)
    expect(attempts).toEqual([401, 400])
    expect((await stored('pc-user-b')).marketing).toBe('on')
  })

  it('shows a clear page for an expired link, a tampered one and none, never data or a stack trace', async () => {
    const page = await phone()
    await page.goto(`${base}/preferences?token=${await linkToken('pc-late', { iat: -900, exp: -60 })}`)
    await page.waitForSelector('body[data-ready=error]')
    expect(await page.textContent('#problem')).toContain('The link has expired')
    expect(await page.isVisible('#center')).toBe(false)

    const good = await linkToken('pc-late')
    const tampered = good.slice(0, -4) + (good.endsWith('AAAA') ? 'BBBB' : 'AAAA')
    const other = await phone()
    await other.goto(`${base}/preferences#token=${tampered}`)
    await other.waitForSelector('body[data-ready=error]')
    expect(await other.textContent('#problem')).toContain('The link is not valid')

    const none = await phone()
    await none.goto(`${base}/preferences`)
    await none.waitForSelector('body[data-ready=error]')
    expect(await none.textContent('#problem')).toContain('needs a link from the app')
    for (const p of [page, other, none]) expect(await p.textContent('body')).not.toMatch(/at .+:\d+:\d+|Error:/)
  })

  it('speaks Simplified Chinese, by Accept-Language and by the lang parameter', async () => {
    const page = await phone({ locale: 'zh-CN', timezoneId: 'Asia/Shanghai' })
    await open(page, 'pc-zh')
    expect(await page.getAttribute('html', 'lang')).toBe('zh-Hans')
    expect(await page.textContent('h1')).toBe('弹窗偏好设置')
    expect(await page.textContent('label[for=marketing]')).toBe('显示营销弹窗')
    await page.getByRole('switch', { name: '贷款和信贷' }).click()
    await settled(page)
    expect(await page.textContent('#status')).toBe('已关闭“贷款和信贷”，立即生效。')
    await page.getByRole('button', { name: '7 天' }).click()
    await settled(page)
    expect(await page.textContent('#snooze-state')).toMatch(/^暂停至 .*2\d{3}年.*。$/)

    const english = await phone({ locale: 'zh-CN' })
    await open(english, 'pc-zh', 'lang=en&')
    expect(await english.textContent('h1')).toBe('Your pop-up choices')
    expect(await english.textContent('label[for=category-0]')).toBe('Loans and credit')
  })

  it('is usable by keyboard, fits a phone screen and axe-core finds no serious or critical violation', async () => {
    expect((await decide('pc-a11y')).show.campaignId).toBe('quick-loan')
    const page = await phone()
    await open(page, 'pc-a11y')
    expect(await page.textContent('#recent')).toBe('You were shown 1 marketing pop-up in the last 24 hours.')
    // Nothing wider than the screen.
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(PHONE.width)
    // Focus order follows the page: language, all marketing, each category, the snooze buttons.
    const order: unknown[] = []
    for (let i = 0; i < 6; i++) {
      await page.keyboard.press('Tab')
      order.push(await page.evaluate('document.activeElement.dataset.category || document.activeElement.dataset.days || document.activeElement.id'))
    }
    expect(order).toEqual(['language', 'marketing', 'loans', 'promo', '1', '7'])
    // Space toggles the focused switch.
    await page.keyboard.press('Shift+Tab')
    await page.keyboard.press('Shift+Tab')
    await page.keyboard.press('Space')
    await settled(page)
    expect((await stored('pc-a11y')).categories).toEqual({ promo: 'off' })
    expect(await page.evaluate('document.activeElement.dataset.category')).toBe('promo')

    // Evaluated through the DevTools protocol: the page's own CSP (Trusted Types) refuses script tags.
    await page.evaluate(readFileSync(AXE_SOURCE, 'utf8'))
    const results: any = await page.evaluate('window.axe.run(document, { resultTypes: ["violations"] })')
    expect(results.passes.length).toBeGreaterThan(10) // axe ran its rules on the page
    const serious = results.violations.filter((v: any) => v.impact === 'serious' || v.impact === 'critical')
    expect(serious.map((v: any) => `${v.id}: ${v.nodes.map((n: any) => n.target.join(' ')).join(', ')}`)).toEqual([])
    if (SCREENSHOT !== undefined && SCREENSHOT !== '') await page.screenshot({ path: SCREENSHOT, fullPage: true })
  })
})
