/**
 * Who may call what: every operation that needs a key is found in the generated
 * OpenAPI document (its security requirement names the scope), so routes added later
 * are covered without editing this file.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEV_API_KEYS, parseApiKeys, type Scope } from '../src/config/api-keys.js'
import { campaign, policy, testApp, type TestApp } from './helpers/app.js'
import { operations, type OpenApiDoc } from './helpers/openapi.js'

const keys = parseApiKeys(DEV_API_KEYS)
const keyWith = (scope: Scope) => keys.find((k) => k.scopes.has(scope))!.secret
const keyWithout = (scope: Scope) => keys.find((k) => !k.scopes.has(scope))!.secret
const bearer = (secret: string) => ({ authorization: `Bearer ${secret}` })

/** A request that succeeds, for operations where success is more than "not 401/403". */
const VALID_BODIES: Record<string, object> = {
  decide: { userId: 'u-auth', placement: 'home', candidates: [{ campaignId: 'a' }] }
}

let t: TestApp
let doc: OpenApiDoc
beforeAll(async () => {
  t = await testApp('redis', { policy: policy(), campaigns: [campaign('a')] })
  doc = t.app.swagger() as unknown as OpenApiDoc
})
afterAll(async () => { await t.close() })

/** The preference centre's operations take a link token, never an API key (test/preference-center/api.test.ts). */
const linkOnly = (op: { security?: Record<string, string[]>[] }) => op.security?.some((s) => s.preferenceLink !== undefined) === true
const secured = () => operations(doc).filter((op) => (op.security?.length ?? 0) > 0 && !linkOnly(op))
const urlOf = (path: string) => path.replace(/\{[^}]+\}/g, 'auth-test-id')

describe('API keys', () => {
  it('are required by every /v1 operation, each naming one scope', () => {
    const v1 = operations(doc).filter((op) => op.path.startsWith('/v1/') && !linkOnly(op))
    expect(v1.length).toBeGreaterThan(0)
    // Those that take a link token take nothing else: no API key reaches a browser.
    const links = operations(doc).filter(linkOnly)
    expect(links.map((op) => op.path).every((p) => p.startsWith('/v1/preference-center'))).toBe(true)
    for (const op of links) expect(op.security, `${op.method} ${op.path}`).toEqual([{ preferenceLink: [] }])
    for (const op of v1) {
      // Operations about one user list a second alternative, the same key with an end-user token.
      expect(op.security?.every((s) => s.apiKey !== undefined), `${op.method} ${op.path}`).toBe(true)
      const scopes = new Set(op.security?.flatMap((s) => s.apiKey ?? []) ?? [])
      expect(scopes.size, `${op.method} ${op.path}`).toBe(1)
    }
  })

  it('are not needed for health, readiness, metrics and docs', async () => {
    for (const url of ['/healthz', '/readyz', '/metrics', '/docs', '/docs/json']) {
      expect((await t.app.inject(url)).statusCode, url).toBe(200)
    }
  })

  it.each([
    ['no key', {}],
    ['a wrong key', bearer('not-a-key-at-all')],
    ['a malformed header', { authorization: 'Basic ZGV2LWNsaWVudC1rZXk=' }]
  ])('with %s, every secured operation answers 401 with a WWW-Authenticate challenge', async (_, headers) => {
    for (const op of secured()) {
      const res = await t.app.inject({ method: op.method.toUpperCase() as 'GET', url: urlOf(op.path), headers, payload: VALID_BODIES[op.operationId ?? ''] })
      expect(res.statusCode, `${op.method} ${op.path}`).toBe(401)
      expect(res.json()).toEqual({ error: 'unauthorized', message: expect.any(String) })
      expect(res.headers['www-authenticate'], `${op.method} ${op.path}`).toBe('Bearer realm="popguard"')
    }
  })

  it('without the scope an operation needs, answers 403 naming the scope', async () => {
    for (const op of secured()) {
      const scope = op.security![0]!.apiKey![0] as Scope
      const res = await t.app.inject({ method: op.method.toUpperCase() as 'GET', url: urlOf(op.path), headers: bearer(keyWithout(scope)), payload: VALID_BODIES[op.operationId ?? ''] })
      expect(res.statusCode, `${op.method} ${op.path}`).toBe(403)
      expect(res.json()).toEqual({ error: 'forbidden', message: expect.stringContaining(scope) })
    }
  })

  it('with the scope, lets the request through', async () => {
    for (const op of secured()) {
      const scope = op.security![0]!.apiKey![0] as Scope
      const body = VALID_BODIES[op.operationId ?? '']
      const res = await t.app.inject({ method: op.method.toUpperCase() as 'GET', url: urlOf(op.path), headers: bearer(keyWith(scope)), payload: body })
      expect([401, 403], `${op.method} ${op.path}: ${res.body}`).not.toContain(res.statusCode)
      if (body !== undefined) expect(res.statusCode, `${op.method} ${op.path}: ${res.body}`).toBeLessThan(300)
    }
  })

  it('lets only client-scoped keys decide', async () => {
    const decide = (secret: string) => t.app.inject({ method: 'POST', url: '/v1/decide', headers: bearer(secret), payload: VALID_BODIES.decide })
    expect((await decide('dev-client-key')).statusCode).toBe(200)
    for (const other of ['dev-preferences-key', 'dev-admin-key', 'dev-reports-key']) expect((await decide(other)).statusCode, other).toBe(403)
  })
})
