/**
 * The preference centre's JSON without a browser: the link token is its only credential and
 * scopes every call to its user; inputs are bounded; each change is stored at once, recorded in
 * the user's history (erased with the user) and counted in the daily report.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../../src/config/config.js'
import { loadPolicyFile } from '../../src/config/policy-file.js'
import { EXAMPLE_POLICY_FILE } from '../../src/app.js'
import { pageLanguage, STRINGS } from '../../src/routes/preferences-page.js'
import { AUTH, testApp, type TestApp } from '../helpers/app.js'
import { expectErrorShape } from '../helpers/error-shape.js'
import { CENTER_POLICY, linkConfig, linkToken, preferenceLinksVariable } from '../helpers/preference-links.js'

const PREFS_AUTH = { authorization: 'Bearer dev-preferences-key' }
const REPORTS_AUTH = { authorization: 'Bearer dev-reports-key' }

let t: TestApp
beforeAll(async () => { t = await testApp('redis', CENTER_POLICY, { config: linkConfig() }) })
afterAll(async () => { await t?.close() })

const call = async (method: 'GET' | 'PUT', url: string, token: string | null, payload?: object) =>
  await t.app.inject({ method, url, headers: token === null ? {} : { authorization: `Bearer ${token}` }, ...(payload === undefined ? {} : { payload }) })

describe('POPGUARD_PREFERENCE_LINKS', () => {
  it('is read into the link rules; without it the preference centre is off', () => {
    const c = loadConfig({ POPGUARD_PREFERENCE_LINKS: preferenceLinksVariable(['https://shop.test']) })
    expect(c.preferenceLinks?.audience).toBe('popguard-preferences')
    expect(c.preferenceLinks?.frameAncestors).toEqual(['https://shop.test'])
    expect(loadConfig({}).preferenceLinks).toBeNull()
  })

  it('refuses the issuer and audience of end-user tokens: a device call\'s token must never open the page', () => {
    const endUser = JSON.stringify({ 'dev-client': { issuer: 'https://backend.shop.test', audience: 'popguard-preferences', keys: [{ alg: 'HS256', secret: 'x'.repeat(32) }] } })
    expect(() => loadConfig({ POPGUARD_END_USER_TOKENS: endUser, POPGUARD_PREFERENCE_LINKS: preferenceLinksVariable() })).toThrow(/^POPGUARD_PREFERENCE_LINKS: .*audience of their own/)
  })

  it.each([
    ['not JSON', '{'],
    ['a short secret', JSON.stringify({ issuer: 'i', audience: 'a', keys: [{ alg: 'HS256', secret: 'short' }] })],
    ['a frame ancestor with a path', JSON.stringify({ issuer: 'i', audience: 'a', keys: [{ alg: 'HS256', secret: 'x'.repeat(32) }], frameAncestors: ['https://a.test/x'] })],
    ['a lifetime over an hour', JSON.stringify({ issuer: 'i', audience: 'a', keys: [{ alg: 'HS256', secret: 'x'.repeat(32) }], maxLifetimeSeconds: 7200 })]
  ])('stops the start on %s, naming the variable', (_what, text) => {
    expect(() => loadConfig({ POPGUARD_PREFERENCE_LINKS: text })).toThrow(ConfigError)
    expect(() => loadConfig({ POPGUARD_PREFERENCE_LINKS: text })).toThrow(/^POPGUARD_PREFERENCE_LINKS: /)
  })
})

describe('the link token', () => {
  it.each([
    ['no token', async () => null, /link token is required/],
    ['an expired token', async () => await linkToken('alice', { iat: -700, exp: -60 }), /expired/],
    ['a token signed with another key', async () => await linkToken('alice', { secret: 'someone-else-signed-this-token-32-chars' }), /signature/],
    ['a token for another audience', async () => await linkToken('alice', { audience: 'popguard' }), /claims/],
    ['a token living longer than allowed', async () => await linkToken('alice', { exp: 3600 }), /lifetime/],
    ['an API key', async () => 'dev-preferences-key', /malformed/]
  ])('refuses %s: 401 in the one error shape, never a stack trace', async (_what, token, message) => {
    for (const [method, url, body] of [['GET', '/v1/preference-center'], ['PUT', '/v1/preference-center/marketing', { marketing: 'off' }]] as const) {
      const res = await call(method, url, await token(), body)
      expect(res.statusCode, `${method} ${url}`).toBe(401)
      expect(String(expectErrorShape(res.body, 'unauthorized').message)).toMatch(message)
    }
  })

  it('reads and changes only the user it names: no route takes a user id', async () => {
    const alice = await linkToken('alice-iso')
    expect((await call('PUT', '/v1/preference-center/marketing', alice, { marketing: 'off' })).statusCode).toBe(200)
    const bob = await t.app.inject({ method: 'GET', url: '/v1/users/bob-iso/preferences', headers: PREFS_AUTH })
    expect(bob.json().marketing).toBe('on')
    const aliceStored = await t.app.inject({ method: 'GET', url: '/v1/users/alice-iso/preferences', headers: PREFS_AUTH })
    expect(aliceStored.json().marketing).toBe('off')
    // A user id smuggled in the query or body is refused or ignored, never followed.
    expect((await call('GET', '/v1/preference-center?userId=bob-iso', alice)).statusCode).toBe(400)
    expect((await call('PUT', '/v1/preference-center/marketing', alice, { marketing: 'off', userId: 'bob-iso' })).statusCode).toBe(400)
  })

  it('is not needed for the page itself, which holds no data', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/preferences' })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toMatch(/text\/html/)
    expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'")
    expect(res.headers['x-frame-options']).toBe('DENY')
  })
})

describe('framing', () => {
  it('is allowed only to the pages POPGUARD_PREFERENCE_LINKS names', async () => {
    const framed = await testApp('memory', CENTER_POLICY, { config: linkConfig(['https://shop.test', "'self'"]) })
    try {
      const res = await framed.app.inject({ method: 'GET', url: '/preferences' })
      expect(res.headers['content-security-policy']).toContain("frame-ancestors https://shop.test 'self'")
      expect(res.headers['x-frame-options']).toBeUndefined()
      // The API's own answers carry none of the page's headers.
      const api = await framed.app.inject({ method: 'GET', url: '/v1/preference-center' })
      expect(api.statusCode).toBe(401)
      expect(api.headers['content-security-policy']).toBeUndefined()
    } finally {
      await framed.close()
    }
  })

  it('without POPGUARD_PREFERENCE_LINKS, the page loads and its JSON answers 404 saying why', async () => {
    const off = await testApp('memory', CENTER_POLICY)
    try {
      expect((await off.app.inject({ method: 'GET', url: '/preferences' })).statusCode).toBe(200)
      const res = await off.app.inject({ method: 'GET', url: '/v1/preference-center', headers: { authorization: `Bearer ${await linkToken('x')}` } })
      expect(res.statusCode).toBe(404)
      expect(String(expectErrorShape(res.body, 'not_found').message)).toContain('POPGUARD_PREFERENCE_LINKS')
    } finally {
      await off.close()
    }
  })
})

describe('bounds', () => {
  it.each([
    ['marketing', { marketing: 'maybe' }, '/v1/preference-center/marketing'],
    ['snooze days', { days: 2 }, '/v1/preference-center/snooze'],
    ['snooze days as text', { days: '1' }, '/v1/preference-center/snooze'],
    ['a category value', { value: 'sometimes' }, '/v1/preference-center/categories/promo'],
    ['a category the registry does not have', { value: 'off' }, '/v1/preference-center/categories/made-up'],
    ['a category of service messages', { value: 'off' }, '/v1/preference-center/categories/app'],
    ['a category of critical messages', { value: 'off' }, '/v1/preference-center/categories/security'],
    ['a category name too long', { value: 'off' }, `/v1/preference-center/categories/${'x'.repeat(65)}`]
  ])('refuses %s: 400 naming the field', async (_what, body, url) => {
    const res = await call('PUT', url, await linkToken('bounds-user'), body)
    expect(res.statusCode, res.body).toBe(400)
    expect(expectErrorShape(res.body, 'bad_request').details).toBeDefined()
  })

  it('refuses a body over 1 KiB (413) and an unknown language (400)', async () => {
    const token = await linkToken('bounds-user')
    expect((await call('PUT', '/v1/preference-center/marketing', token, { marketing: 'off', pad: 'x'.repeat(2000) })).statusCode).toBe(413)
    expect((await call('GET', '/v1/preference-center?lang=fr', token)).statusCode).toBe(400)
  })
})

/** Today's preference counts of the daily report (the policy's zone is UTC), after a flush. */
async function preferenceCounts (): Promise<Record<string, number>> {
  await t.app.reports.flusher.flush()
  const day = new Date().toISOString().slice(0, 10)
  const report = await t.app.inject({ method: 'GET', url: `/v1/reports/daily?from=${day}&to=${day}`, headers: REPORTS_AUTH })
  expect(report.statusCode).toBe(200)
  return report.json().days[0].preferences
}

describe('a change', () => {
  it('applies to the next decision, is recorded in the user\'s history, counted in the report, and erased with the user', async () => {
    const user = 'carol-audit'
    const token = await linkToken(user)
    const decide = async () => (await t.decide({ userId: user, placement: 'home', candidates: [{ campaignId: 'quick-loan' }, { campaignId: 'spring-sale' }, { campaignId: 'fraud-warning' }] })).body

    const counted = await preferenceCounts()
    const view = await call('PUT', '/v1/preference-center/categories/loans', token, { value: 'off' })
    expect(view.statusCode).toBe(200)
    expect(view.json().categories.find((c: any) => c.id === 'loans').value).toBe('off')
    const answer = await decide()
    expect(answer.candidates.find((c: any) => c.campaignId === 'quick-loan').reason).toBe('opted_out')
    expect(answer.show.campaignId).toBe('fraud-warning')

    const before = Date.now()
    const snoozed = await call('PUT', '/v1/preference-center/snooze', token, { days: 7 })
    const until = Date.parse(snoozed.json().preferences.snoozeUntil)
    expect(until).toBeGreaterThanOrEqual(before + 7 * 86_400_000)
    expect(until).toBeLessThanOrEqual(Date.now() + 7 * 86_400_000)
    expect((await decide()).candidates.find((c: any) => c.campaignId === 'spring-sale').reason).toBe('opted_out')
    // The same choice again changes nothing and records nothing.
    await call('PUT', '/v1/preference-center/categories/loans', token, { value: 'off' })
    await t.app.inject({ method: 'PUT', url: `/v1/users/${user}/preferences`, headers: PREFS_AUTH, payload: { marketing: 'off' } })

    const history = await t.app.inject({ method: 'GET', url: `/v1/users/${user}/preferences/history`, headers: PREFS_AUTH })
    expect(history.statusCode).toBe(200)
    const changes = history.json().changes
    // Newest first; the PUT replaced the document whole (loans back on, snooze ended, marketing off): three changes of one write.
    expect(changes.map((c: any) => [c.change, c.by, c.via, c.category ?? null])).toEqual([
      ['snooze_ended', 'app', 'api', null],
      ['category_on', 'app', 'api', 'loans'],
      ['marketing_off', 'app', 'api', null],
      ['snooze', 'user', 'preference_center', null],
      ['category_off', 'user', 'preference_center', 'loans']
    ])
    expect(changes[3].until).toBe(new Date(until).toISOString())
    expect(changes.map((c: any) => c.key ?? null)).toEqual(['dev-app', 'dev-app', 'dev-app', null, null])
    for (const c of changes) expect(Date.parse(c.at)).toBeGreaterThan(before - 60_000)

    const after = await preferenceCounts()
    const added = Object.fromEntries(Object.entries(after).map(([k, n]) => [k, n - (counted[k] ?? 0)]))
    expect(added).toEqual({ marketingOff: 1, marketingOn: 0, categoryOff: 1, categoryOn: 1, snoozed: 1, snoozeEnded: 1, viaPreferenceCenter: 2 })

    expect((await t.app.inject({ method: 'DELETE', url: `/v1/users/${user}`, headers: PREFS_AUTH })).statusCode).toBe(204)
    const erased = await t.app.inject({ method: 'GET', url: `/v1/users/${user}/preferences/history`, headers: PREFS_AUTH })
    expect(erased.json().changes).toEqual([])
  })

  it('keeps at most 100 changes per user, the newest', async () => {
    const token = await linkToken('dana-bounded')
    for (let i = 0; i < 52; i++) {
      await call('PUT', '/v1/preference-center/marketing', token, { marketing: 'off' })
      await call('PUT', '/v1/preference-center/marketing', token, { marketing: 'on' })
    }
    const history = await t.app.inject({ method: 'GET', url: '/v1/users/dana-bounded/preferences/history', headers: PREFS_AUTH })
    const changes = history.json().changes
    expect(changes).toHaveLength(100)
    expect(changes[0].change).toBe('marketing_on')
  })

  it('counts the user\'s recent marketing pop-ups from the impressions popguard keeps', async () => {
    const user = 'erin-recent'
    for (const campaignId of ['spring-sale', 'quick-loan', 'app-update']) {
      const res = await t.app.inject({ method: 'POST', url: '/v1/decide', headers: AUTH, payload: { userId: user, placement: 'home', candidates: [{ campaignId }] } })
      expect(res.json().show?.campaignId).toBe(campaignId)
    }
    const view = await call('GET', '/v1/preference-center', await linkToken(user))
    expect(view.json().recent).toEqual({ marketingShown: 2, hours: 24 })
  })
})

describe('the page\'s languages', () => {
  it('have one strings file each, with the same keys, none empty', () => {
    const keys = Object.keys(STRINGS.en).sort()
    expect(keys.length).toBeGreaterThan(30)
    expect(Object.keys(STRINGS['zh-Hans']).sort()).toEqual(keys)
    for (const lang of ['en', 'zh-Hans'] as const) for (const k of keys) expect(STRINGS[lang][k], `${lang} ${k}`).not.toBe('')
  })

  it.each([
    [undefined, undefined, 'en'],
    ['zh-Hans', 'en-US', 'zh-Hans'],
    ['zh', undefined, 'zh-Hans'],
    ['en', 'zh-CN,zh;q=0.9', 'en'],
    ['fr', 'zh-CN,zh;q=0.9', 'zh-Hans'],
    [undefined, 'fr-FR,fr;q=0.9,zh;q=0.8,en;q=0.7', 'zh-Hans'],
    [undefined, 'en;q=0.5,zh-Hans;q=0.9', 'zh-Hans'],
    [undefined, 'zh-TW', 'en'], // Traditional Chinese is not this page's Chinese
    [undefined, 'zh;q=0', 'en'],
    [undefined, ','.repeat(5000) + 'zh', 'en']
  ])('lang=%s with Accept-Language %s: %s', (param, header, expected) => {
    expect(pageLanguage(param, header)).toBe(expected)
  })

  it('serves the page in the chosen language, its strings escaped into the template', async () => {
    const zh = await t.app.inject({ method: 'GET', url: '/preferences', headers: { 'accept-language': 'zh-CN,zh;q=0.9' } })
    expect(zh.body).toContain('<html lang="zh-Hans">')
    expect(zh.body).toContain('<h1>弹窗偏好设置</h1>')
    expect(zh.headers['content-language']).toBe('zh-Hans')
    expect(zh.body).not.toMatch(/\{\{\w+\}\}/)
    const strings = await t.app.inject({ method: 'GET', url: '/preferences/strings/zh-Hans.json' })
    expect(strings.json()).toEqual(STRINGS['zh-Hans'])
  })

  it('shows the example policy\'s categories by their names', async () => {
    const file = await loadPolicyFile(EXAMPLE_POLICY_FILE)
    expect(file.policy.categories?.loans?.names?.['zh-Hans']).toBe('贷款和信贷')
  })
})
