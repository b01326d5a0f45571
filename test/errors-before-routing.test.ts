/**
 * Errors raised before any route runs (bad URLs, over-long URLs and headers, malformed
 * requests, a closing instance) answer in the one error shape too, over a real socket.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../src/app.js'
import { campaign, policy, testApp, testConfig, type TestApp } from './helpers/app.js'
import { expectErrorShape } from './helpers/error-shape.js'
import { listenOnFreePort, parseResponse, rawExchange } from './helpers/raw-http.js'

const PREFERENCES_KEY = 'Authorization: Bearer dev-preferences-key\r\n'
const get = (target: string, headers = ''): string => `GET ${target} HTTP/1.1\r\nHost: popguard\r\n${headers}Connection: close\r\n\r\n`

let t: TestApp
let port: number
beforeAll(async () => {
  t = await testApp('memory', { policy: policy(), campaigns: [campaign('a')] })
  port = await listenOnFreePort(t.app)
})
afterAll(async () => { await t.close() })

describe('errors before routing', () => {
  it('answers a URL with broken percent-encoding 400 bad_request, without echoing the path', async () => {
    const res = parseResponse(await rawExchange(port, get('/v1/users/secret-user-%zz/preferences', PREFERENCES_KEY)))
    expect(res.status).toBe(400)
    expectErrorShape(res.body, 'bad_request')
    expect(res.body).not.toContain('secret-user')
  })

  it('answers a path segment longer than any valid id 414 uri_too_long', async () => {
    const res = parseResponse(await rawExchange(port, get(`/v1/users/${'u'.repeat(4000)}/preferences`, PREFERENCES_KEY)))
    expect(res.status).toBe(414)
    expectErrorShape(res.body, 'uri_too_long')
  })

  it('lets a user id of any valid length (up to 256 characters) reach its schema, not the router', async () => {
    const longest = '\u{1F600}'.repeat(256) // 4 UTF-8 bytes each: 3072 characters percent-encoded
    const ok = parseResponse(await rawExchange(port, get(`/v1/users/${encodeURIComponent(longest)}/preferences`, PREFERENCES_KEY)))
    expect(ok.status, ok.body).toBe(200)
    const tooLong = parseResponse(await rawExchange(port, get(`/v1/users/${'u'.repeat(257)}/preferences`, PREFERENCES_KEY)))
    expect(tooLong.status).toBe(400)
    expect(expectErrorShape(tooLong.body, 'bad_request').details).toEqual([{ path: '/userId', message: expect.any(String) }])
  })

  it('answers a URL longer than 8 KiB 414 uri_too_long', async () => {
    const res = parseResponse(await rawExchange(port, get(`/healthz?pad=${'x'.repeat(9000)}`)))
    expect(res.status).toBe(414)
    expectErrorShape(res.body, 'uri_too_long')
  })

  it('answers headers larger than Node accepts 431 headers_too_large', async () => {
    const res = parseResponse(await rawExchange(port, get('/healthz', `X-Padding: ${'x'.repeat(20_000)}\r\n`)))
    expect(res.status).toBe(431)
    expectErrorShape(res.body, 'headers_too_large')
  })

  it('answers a malformed request line 400 bad_request', async () => {
    for (const garbage of ['HELLO\r\n\r\n', 'GET /healthz HTTP/9.9\r\n\r\n', 'GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n']) {
      const res = parseResponse(await rawExchange(port, garbage))
      expect(res.status, garbage).toBe(400)
      expectErrorShape(res.body, 'bad_request')
    }
  })
})

describe('an instance that is shutting down', () => {
  it('answers a request still arriving 503 unavailable with Retry-After and closes the connection', async () => {
    const app = await buildApp(testConfig(), { policy: { policy: policy(), campaigns: [campaign('a')] } })
    const appPort = await listenOnFreePort(app)
    let closed: Promise<void> | undefined
    // Headers begun before close() keep the connection busy, so it is not closed as idle; they end after.
    const text = await rawExchange(appPort, (socket) => {
      socket.write('GET /healthz HTTP/1.1\r\nHost: popguard\r\n')
      setTimeout(() => {
        closed = app.close()
        setTimeout(() => socket.write('\r\n'), 100)
      }, 100)
    })
    await closed
    const res = parseResponse(text)
    expect(res.status).toBe(503)
    expectErrorShape(res.body, 'unavailable')
    expect(res.headers['retry-after']).toBe('1')
    expect(res.headers.connection).toBe('close')
  })
})
