/**
 * Every number a query string carries is bounded by its schema: out of range is a 400 naming
 * the field, never a value handed to the store (Redis refused `offset=1e21` with an error: 503).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { campaign, policy, testApp, type TestApp } from './helpers/app.js'
import { expectErrorShape } from './helpers/error-shape.js'

const ADMIN = { authorization: 'Bearer dev-admin-key' }
const PAGED = ['/v1/audit', '/v1/policy/history', '/v1/campaigns']

let t: TestApp
beforeAll(async () => { t = await testApp('redis', { policy: policy(), campaigns: [campaign('a')] }) })
afterAll(async () => { await t.close() })

describe('numbers in query strings', () => {
  it.each(PAGED)('%s: an offset or limit out of range is a 400 naming it', async (url) => {
    const cases: [string, string][] = [
      ['offset=1e21', '/offset'], ['offset=100001', '/offset'], ['offset=-1', '/offset'], ['offset=1.5', '/offset'],
      ['offset=Infinity', '/offset'], ['offset=NaN', '/offset'], ['limit=1e21', '/limit'], ['limit=0', '/limit'], ['limit=201', '/limit']
    ]
    for (const [query, path] of cases) {
      const res = await t.app.inject({ url: `${url}?${query}`, headers: ADMIN })
      expect(res.statusCode, `${url}?${query}: ${res.body}`).toBe(400)
      expect(expectErrorShape(res.body, 'bad_request').details, query).toEqual([{ path, message: expect.any(String) }])
    }
  })

  it.each(PAGED)('%s: the largest offset accepted answers an empty last page', async (url) => {
    const res = await t.app.inject({ url: `${url}?offset=100000&limit=200`, headers: ADMIN })
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json()).toEqual({ items: [], nextOffset: null })
  })
})
