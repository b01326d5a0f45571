// The example shop page (examples/browser) in headless Chromium: the SDK from the browser, with an
// end-user token its backend signs, against a real popguard on another origin (CORS).
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync } from 'node:fs'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startExampleServer } from '../../examples/browser/server.js'
import { campaign, policy, testApp, type TestApp } from '../helpers/app.js'
import { AUDIENCE, DEVICE_KEY, deviceConfig, HS_SECRET, ISSUER } from '../helpers/user-tokens.js'

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync']

let t: TestApp
let shop: { url: string, server: Server }
let browser: Browser
let popguardUrl = ''
const events: { type: string, campaignId: string, outcome: string }[] = []

/** The SDK compiled for this test alone, so no other test's build can change it underneath. */
function buildSdk (): string {
  const out = mkdtempSync(join(tmpdir(), 'popguard-sdk-'))
  const tsc = fileURLToPath(new URL('../../node_modules/typescript/bin/tsc', import.meta.url))
  execFileSync(process.execPath, [tsc, '-p', fileURLToPath(new URL('../../clients/typescript', import.meta.url)), '--outDir', out, '--declaration', 'false', '--declarationMap', 'false'])
  return out
}

beforeAll(async () => {
  shop = await startExampleServer({ popguardUrl: () => popguardUrl, apiKey: DEVICE_KEY, secret: HS_SECRET, issuer: ISSUER, audience: AUDIENCE, sdkDir: buildSdk() })
  t = await testApp('redis', { policy: policy(), campaigns: [campaign('spring-sale', { priority: 60 }), campaign('quick-loan')] }, { config: deviceConfig([shop.url]) })
  t.app.events.onEvent((r) => events.push({ type: r.type, campaignId: r.campaignId, outcome: r.outcome }))
  await t.app.listen({ port: 0, host: '127.0.0.1' })
  popguardUrl = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS })
}, 60_000)
afterAll(async () => {
  await browser?.close()
  await t?.close()
  shop?.server.close()
})

describe('the example shop page in a browser', () => {
  it('decides with a token, shows the pop-up, reports shown and dismissed, and is refused for another user', async () => {
    const page = await browser.newPage()
    const problems: string[] = []
    page.on('pageerror', (e) => problems.push(e.message))
    page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()) })
    await page.goto(`${shop.url}/?user=shopper-ann`)
    await page.waitForSelector('body[data-state=shown]', { timeout: 15_000 })
    expect(await page.isVisible('#popup')).toBe(true)
    expect(await page.textContent('#popup-title')).toBe('spring-sale')
    mkdirSync('test-output', { recursive: true })
    await page.screenshot({ path: 'test-output/browser-example.png' })

    await page.click('#popup-close')
    await page.waitForSelector('body[data-events]', { timeout: 15_000 })
    // `shown` may have left on the page's 2 s interval already; after the flush on Close nothing waits.
    expect(await page.getAttribute('body', 'data-events')).toBe('0 waiting')
    expect(await page.isVisible('#popup')).toBe(false)
    expect(events).toEqual([
      { type: 'shown', campaignId: 'spring-sale', outcome: 'accepted' },
      { type: 'dismissed', campaignId: 'spring-sale', outcome: 'accepted' }
    ])

    await page.click('#as-other')
    await page.waitForSelector('#other-result:not(:empty)', { timeout: 15_000 })
    expect(await page.textContent('#other-result')).toBe('refused 403')
    // The refusal is the only error the browser reports (the 403 itself); nothing threw.
    expect(problems.filter((p) => !p.includes('403'))).toEqual([])
    await page.close()
  }, 60_000) // a page, its backend and popguard on one loaded machine: several seconds each step

  it('sends the events still waiting when the page is left (fetch keepalive on pagehide)', async () => {
    const page = await browser.newPage()
    const before = events.length
    // Events would leave on the interval only after a minute: leaving the page must send them.
    await page.goto(`${shop.url}/?user=shopper-ben&flushEvery=60000`)
    await page.waitForSelector('body[data-state=shown]', { timeout: 15_000 })
    await page.goto('about:blank')
    const deadline = Date.now() + 10_000
    while (events.length === before && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
    expect(events.slice(before)).toEqual([{ type: 'shown', campaignId: 'spring-sale', outcome: 'accepted' }])
    await page.close()
  }, 60_000)
})
