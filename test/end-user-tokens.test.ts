import { generateKeyPairSync } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../src/config/config.js'
import { AUTH, campaign, policy, testApp, type TestApp } from './helpers/app.js'
import { DEVICE_KEY, deviceConfig, ec, endUserTokensVariable, HS_SECRET, userToken } from './helpers/user-tokens.js'

const DEVICE = { authorization: `Bearer ${DEVICE_KEY}` }
const decideAs = (userId: string) => ({ userId, placement: 'home', candidates: [{ campaignId: 'a' }] })
const event = (userId: string) => ({ decisionId: '0b6f3c1e-8a43-4a8e-9d61-2f5d7c9a1b20', userId, campaignId: 'a', type: 'shown' })

describe('POPGUARD_END_USER_TOKENS', () => {
  const base = { POPGUARD_API_KEYS: `device-app:client:${DEVICE_KEY}` }
  const variable = (rules: object) => JSON.stringify({ 'device-app': { issuer: 'i', audience: 'a', ...rules } })

  it('is read into rules for the key it names', () => {
    const c = loadConfig({ ...base, POPGUARD_END_USER_TOKENS: endUserTokensVariable() })
    const rules = c.endUserTokens.get('device-app')
    expect(rules?.keys.map((k) => k.alg)).toEqual(['HS256', 'ES256', 'EdDSA'])
    expect(rules?.maxLifetimeSeconds).toBe(600)
    expect(loadConfig(base).endUserTokens.size).toBe(0)
  })

  it.each([
    ['not JSON', '{device-app'],
    ['an unknown key name', JSON.stringify({ nobody: { issuer: 'i', audience: 'a', keys: [{ alg: 'HS256', secret: HS_SECRET }] } })],
    ['a short HS256 secret', variable({ keys: [{ alg: 'HS256', secret: 'short' }] })],
    ['an algorithm it does not accept', variable({ keys: [{ alg: 'none', secret: HS_SECRET }] })],
    ['a private JWK', variable({ keys: [{ alg: 'ES256', jwk: ec.privateKey.export({ format: 'jwk' }) }] })],
    ['an RSA key for ES256', variable({ keys: [{ alg: 'ES256', jwk: generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' }) }] })],
    ['an origin with a path', variable({ keys: [{ alg: 'HS256', secret: HS_SECRET }], origins: ['https://shop.test/app'] })],
    ['a wildcard origin', variable({ keys: [{ alg: 'HS256', secret: HS_SECRET }], origins: ['*'] })],
    ['a lifetime over an hour', variable({ keys: [{ alg: 'HS256', secret: HS_SECRET }], maxLifetimeSeconds: 7200 })]
  ])('stops the start on %s, naming the variable', (_what, text) => {
    expect(() => loadConfig({ ...base, POPGUARD_END_USER_TOKENS: text })).toThrow(ConfigError)
    expect(() => loadConfig({ ...base, POPGUARD_END_USER_TOKENS: text })).toThrow(/^POPGUARD_END_USER_TOKENS: /)
  })
})

describe('a key that requires end-user tokens', () => {
  let t: TestApp
  beforeAll(async () => { t = await testApp('redis', { policy: policy(), campaigns: [campaign('a')] }, { config: deviceConfig() }) })
  afterAll(async () => { await t.close() })
  const decide = async (body: object, token?: string, headers: Record<string, string> = DEVICE) =>
    await t.app.inject({ method: 'POST', url: '/v1/decide', headers: { ...headers, ...(token === undefined ? {} : { 'x-user-token': token }) }, payload: body })

  it('decides for the user its token names, with HS256, ES256 and EdDSA', async () => {
    for (const alg of ['HS256', 'ES256', 'EdDSA'] as const) {
      const res = await decide(decideAs('alice'), await userToken('alice', { alg }))
      expect(res.statusCode, alg).toBe(200)
    }
  })

  it('refuses a request without a token: 401 in the one error shape', async () => {
    const res = await decide(decideAs('alice'))
    expect(res.statusCode).toBe(401)
    expect(res.json()).toEqual({ error: 'unauthorized', message: expect.stringContaining('end-user token') })
  })

  it('refuses a request naming another user than its token: 403, for decide, events and preferences', async () => {
    const alices = await userToken('alice')
    const other = await decide(decideAs('bob'), alices)
    expect(other.statusCode).toBe(403)
    expect(other.json()).toMatchObject({ error: 'forbidden', message: expect.stringContaining('other than') })
    const events = await t.app.inject({ method: 'POST', url: '/v1/events', headers: { ...DEVICE, 'x-user-token': alices }, payload: { events: [event('alice'), event('bob')] } })
    expect(events.statusCode).toBe(403)
    const bobsPreferences = await t.app.inject({ url: '/v1/users/bob/preferences', headers: { ...DEVICE, 'x-user-token': alices } })
    expect(bobsPreferences.statusCode).toBe(403)
    const own = await t.app.inject({ url: '/v1/users/alice/preferences', headers: { ...DEVICE, 'x-user-token': alices } })
    expect(own.statusCode).toBe(200)
    const ownEvents = await t.app.inject({ method: 'POST', url: '/v1/events', headers: { ...DEVICE, 'x-user-token': alices }, payload: { events: [event('alice')] } })
    expect(ownEvents.statusCode).toBe(202)
  })

  it.each([
    ['expired', { exp: -60, iat: -120 }, 'expired'],
    ['longer-lived than allowed', { exp: 3600 }, 'lifetime'],
    ['issued too far in the future (beyond the clock skew)', { iat: 120, exp: 300 }, 'not yet valid'],
    ['for another audience', { audience: 'another-service' }, 'claims'],
    ['from another issuer', { issuer: 'https://elsewhere.test' }, 'claims'],
    ['signed with another secret', { key: new TextEncoder().encode('another-secret-of-at-least-32-characters') }, 'signature'],
    ['signed by an unknown key id', { kid: 'hs-9' }, 'unknown key']
  ])('refuses a token %s: 401', async (_what, options, reason) => {
    const res = await decide(decideAs('alice'), await userToken('alice', options))
    expect(res.statusCode).toBe(401)
    expect(res.json().message).toContain(reason)
  })

  it('accepts a token issued a little in the future (clock skew within 30 s)', async () => {
    const res = await decide(decideAs('alice'), await userToken('alice', { iat: 20, exp: 300 }))
    expect(res.statusCode).toBe(200)
  })

  it('refuses unsigned, malformed and oversized tokens: 401', async () => {
    const header = Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')
    const payload = Buffer.from(JSON.stringify({ sub: 'alice', iss: 'https://backend.shop.test', aud: 'popguard', iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 60 })).toString('base64url')
    for (const token of [`${header}.${payload}.`, 'not-a-jwt', 'a.b.c', 'x'.repeat(5000)]) {
      expect((await decide(decideAs('alice'), token)).statusCode, token.slice(0, 20)).toBe(401)
    }
  })

  it('leaves keys without the requirement as they were: a backend key decides for any user without a token', async () => {
    expect((await decide(decideAs('bob'), undefined, AUTH)).statusCode).toBe(200)
  })
})
