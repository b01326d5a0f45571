/**
 * Every admin write says what it overwrites: `If-Match` with the ETag read (or `*`), or for a
 * new campaign `If-None-Match: *`. Without one it is refused (428); with a stale one, 412.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { PolicyFile } from '../../src/rules/policy/schema.js'
import { campaign, policy, STORE_KINDS, testApp, type TestApp } from '../helpers/app.js'
import { expectErrorShape } from '../helpers/error-shape.js'
import { ADMIN, admin } from './helpers.js'

const FILE: PolicyFile = { policy: policy(), campaigns: [campaign('spring'), campaign('update', { class: 'service' })] }
const SUSPEND = { action: 'suspend', reason: 'aggressive copy' }

type Write = ['PUT' | 'POST' | 'DELETE', string, object | undefined]
const WRITES: Write[] = [
  ['PUT', '/v1/policy', { ...FILE.policy, cooldown: '5m' }],
  ['PUT', '/v1/campaigns/spring', campaign('spring', { priority: 70 })],
  ['PUT', '/v1/campaigns/autumn', campaign('autumn')],
  ['POST', '/v1/campaigns/spring/penalties', SUSPEND],
  ['DELETE', '/v1/campaigns/update/penalties', undefined],
  ['DELETE', '/v1/campaigns/spring', undefined]
]

describe.each(STORE_KINDS)('admin write preconditions (%s store)', (kind) => {
  let t: TestApp
  afterEach(async () => { await t?.close() })
  const start = async (): Promise<TestApp> => (t = await testApp(kind, FILE))
  const write = (method: Write[0], url: string, payload: object | undefined, headers: Record<string, string> = {}) =>
    t.app.inject({ method, url, headers: { ...ADMIN, ...headers }, ...(payload === undefined ? {} : { payload }) })

  it('refuses every admin write without a precondition with 428 precondition_required, changing nothing', async () => {
    await start()
    await admin(t, 'POST', '/v1/campaigns/update/penalties', SUSPEND)
    const before = await admin(t, 'GET', '/v1/audit?limit=200')
    for (const [method, url, payload] of WRITES) {
      const res = await write(method, url, payload)
      expect(res.statusCode, `${method} ${url}: ${res.body}`).toBe(428)
      expectErrorShape(res.body, 'precondition_required')
    }
    expect((await admin(t, 'GET', '/v1/audit?limit=200')).body).toEqual(before.body)
  })

  it('lets one of 10 concurrent policy writers holding the same ETag win; the others get 412', async () => {
    await start()
    const etag = (await admin(t, 'GET', '/v1/policy')).headers.etag as string
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) =>
      write('PUT', '/v1/policy', { ...FILE.policy, cooldown: `${i + 1}m` }, { 'if-match': etag })))
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, ...Array(9).fill(412)])
    for (const r of results.filter((r) => r.statusCode === 412)) expectErrorShape(r.body, 'precondition_failed')
    const now = await admin(t, 'GET', '/v1/policy')
    expect(now.body.version).toBe(2)
    expect(now.headers.etag).toBe('"2"')
  })

  it('lets one of 10 concurrent campaign writers holding the same ETag win; the others get 412', async () => {
    await start()
    const etag = (await admin(t, 'GET', '/v1/campaigns/spring')).headers.etag as string
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) =>
      write('PUT', '/v1/campaigns/spring', campaign('spring', { priority: i + 1 }), { 'if-match': etag })))
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, ...Array(9).fill(412)])
  })

  it('gives every campaign read and write answer its ETag, which a penalty changes too', async () => {
    await start()
    const read = await admin(t, 'GET', '/v1/campaigns/spring')
    const etag = read.headers.etag as string
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{22}"$/)
    expect(read.body.etag).toBe(etag)
    expect((await admin(t, 'GET', '/v1/campaigns')).body.items.find((c: any) => c.campaign.id === 'spring').etag).toBe(etag)

    const penalized = await write('POST', '/v1/campaigns/spring/penalties', SUSPEND, { 'if-match': etag })
    expect(penalized.statusCode).toBe(200)
    const afterPenalty = penalized.headers.etag as string
    expect(afterPenalty).not.toBe(etag)
    expect((await admin(t, 'GET', '/v1/campaigns/spring')).headers.etag).toBe(afterPenalty)

    // The campaign record itself did not change, but a write based on the read before the penalty is stale.
    const stale = await write('PUT', '/v1/campaigns/spring', campaign('spring', { priority: 10 }), { 'if-match': etag })
    expect(stale.statusCode).toBe(412)
    const lifted = await write('DELETE', '/v1/campaigns/spring/penalties', undefined, { 'if-match': afterPenalty })
    expect(lifted.statusCode).toBe(200)
    expect(lifted.headers.etag).not.toBe(afterPenalty)
    expect((await write('DELETE', '/v1/campaigns/spring', undefined, { 'if-match': afterPenalty })).statusCode).toBe(412)
    expect((await write('DELETE', '/v1/campaigns/spring', undefined, { 'if-match': lifted.headers.etag as string })).statusCode).toBe(204)
  })

  it('creates with If-None-Match: * only what does not exist, and replaces with If-Match only what does', async () => {
    await start()
    const created = await write('PUT', '/v1/campaigns/autumn', campaign('autumn'), { 'if-none-match': '*' })
    expect(created.statusCode).toBe(201)
    expect(created.headers.etag).toBe(created.json().etag)
    expect((await write('PUT', '/v1/campaigns/autumn', campaign('autumn'), { 'if-none-match': '*' })).statusCode).toBe(412)
    expect((await write('PUT', '/v1/campaigns/winter', campaign('winter'), { 'if-match': '*' })).statusCode).toBe(412)
    expect((await admin(t, 'GET', '/v1/campaigns/winter')).status).toBe(404)
    expect((await write('PUT', '/v1/campaigns/autumn', campaign('autumn', { priority: 80 }), { 'if-match': '*' })).statusCode).toBe(200)
    expect((await write('PUT', '/v1/policy', { ...FILE.policy, cooldown: '1m' }, { 'if-match': '*' })).statusCode).toBe(200)
    // The policy's version, quoted or bare, as earlier clients sent it.
    expect((await write('PUT', '/v1/policy', { ...FILE.policy, cooldown: '2m' }, { 'if-match': '2' })).statusCode).toBe(200)
    expect((await write('PUT', '/v1/policy', { ...FILE.policy, cooldown: '3m' }, { 'if-match': '"1", "3"' })).statusCode).toBe(200)
  })

  it('answers a malformed If-Match with 400 naming the header', async () => {
    await start()
    for (const bad of ['"unterminated', 'two words', '*, "1"']) {
      const res = await write('PUT', '/v1/policy', FILE.policy, { 'if-match': bad })
      expect(res.statusCode, bad).toBe(400)
      expect(expectErrorShape(res.body, 'bad_request').details).toEqual([{ path: '/if-match', message: expect.any(String) }])
    }
  })
})
