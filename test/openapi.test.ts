import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { FastifyInstance } from 'fastify'
import { appOnRedis, AUTH, campaign, policy, testApp, type TestApp } from './helpers/app.js'
import { committedSpec, operations, responseChecker } from './helpers/openapi.js'
import { startRedisServer, type RedisServer } from './helpers/redis-server.js'

const spec = committedSpec()
const check = responseChecker(spec)
const decideBody = { userId: 'u-openapi', placement: 'home', candidates: [{ campaignId: 'a' }] }

describe('openapi.yaml', () => {
  let t: TestApp
  beforeAll(async () => { t = await testApp('redis', { policy: policy(), campaigns: [campaign('a')] }) })
  afterAll(async () => { await t.close() })

  it('is what the route schemas generate today (run `npm run openapi` when this fails)', () => {
    expect(readFileSync(new URL('../openapi.yaml', import.meta.url), 'utf8')).toBe(t.app.swagger({ yaml: true }))
  })

  it('is OpenAPI 3.1 with a bearer scheme, and every operation has an id, tags and a summary', () => {
    expect(spec.openapi).toBe('3.1.0')
    expect(spec.components?.securitySchemes?.apiKey).toMatchObject({ type: 'http', scheme: 'bearer' })
    const ops = operations(spec)
    expect(ops.map((o) => `${o.method} ${o.path}`)).toEqual(expect.arrayContaining(['post /v1/decide', 'get /healthz', 'get /readyz', 'get /metrics']))
    for (const op of ops) {
      expect(op.operationId, `${op.method} ${op.path}`).toBeTruthy()
      expect(op.tags?.length, `${op.method} ${op.path}`).toBeGreaterThan(0)
    }
    expect(ops.some((o) => o.path.startsWith('/docs'))).toBe(false)
  })

  it('describes every answer of POST /v1/decide: 200, 400, 401, 403, 413, 415', async () => {
    const post = (payload: string | object, headers: Record<string, string> = AUTH) =>
      t.app.inject({ method: 'POST', url: '/v1/decide', headers, payload })
    const answers = [
      await post(decideBody),
      await post({ ...decideBody, candidates: [] }),
      await post(decideBody, {}),
      await post(decideBody, { authorization: 'Bearer dev-reports-key' }),
      await post({ ...decideBody, userId: 'x'.repeat(70_000) }),
      await post('<decide/>', { ...AUTH, 'content-type': 'application/xml' })
    ]
    expect(answers.map((r) => r.statusCode)).toEqual([200, 400, 401, 403, 413, 415])
    for (const res of answers) check('/v1/decide', 'POST', res)
  })

  it('describes liveness, readiness and metrics', async () => {
    check('/healthz', 'GET', await t.app.inject('/healthz'))
    const ready = await t.app.inject('/readyz')
    expect(ready.statusCode).toBe(200)
    check('/readyz', 'GET', ready)
    const metrics = await t.app.inject('/metrics')
    expect(metrics.headers['content-type']).toMatch(/^text\/plain/)
    check('/metrics', 'GET', metrics)
  })

  describe('when the store is down', () => {
    let redis: RedisServer
    let app: FastifyInstance
    beforeAll(async () => {
      redis = await startRedisServer()
      app = await appOnRedis(redis.url)
      await redis.stop()
    })
    afterAll(async () => { await app.close() })

    it('describes readiness 503 in the one error shape', async () => {
      const res = await app.inject('/readyz')
      expect(res.statusCode).toBe(503)
      check('/readyz', 'GET', res)
    })
  })
})

describe('interactive documentation on /docs', () => {
  let t: TestApp
  beforeAll(async () => { t = await testApp('memory', { policy: policy(), campaigns: [campaign('a')] }) })
  afterAll(async () => { await t.close() })

  it('serves the page and its own scripts, so it works without the internet', async () => {
    const page = await t.app.inject('/docs')
    expect(page.statusCode).toBe(200)
    expect(page.headers['content-type']).toMatch(/^text\/html/)
    const scripts = [...page.body.matchAll(/<script[^>]+src="([^"]+)"/g)].map((m) => m[1]!)
    expect(scripts.length).toBeGreaterThan(0)
    for (const src of scripts) {
      expect(src, 'no assets from another host').not.toMatch(/^(https?:)?\/\//)
      const asset = await t.app.inject(new URL(src, 'http://localhost/docs/').pathname)
      expect(asset.statusCode, src).toBe(200)
    }
  })

  it('serves the same document as openapi.yaml', async () => {
    const res = await t.app.inject('/docs/json')
    expect(res.json()).toEqual(JSON.parse(JSON.stringify(spec)))
  })
})
