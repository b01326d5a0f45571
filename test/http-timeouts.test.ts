/**
 * Request and header timeouts hold over a real socket: a client trickling its body or its
 * headers in gets 408 in the one error shape soon after the timeout, not after Node's
 * 30 s connection check.
 */
import type { Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../src/app.js'
import { campaign, policy, testConfig } from './helpers/app.js'
import { expectErrorShape } from './helpers/error-shape.js'
import { listenOnFreePort, parseResponse, rawExchange } from './helpers/raw-http.js'

const TIMEOUT_MS = 1000
/** Node checks every quarter of the timeout; the rest is room for a busy test machine. */
const ANSWERED_WITHIN_MS = 2500

let app: Awaited<ReturnType<typeof buildApp>>
let port: number
beforeAll(async () => {
  app = await buildApp(testConfig(), {
    policy: { policy: policy(), campaigns: [campaign('a')] },
    timeouts: { requestMs: TIMEOUT_MS, headersMs: TIMEOUT_MS }
  })
  port = await listenOnFreePort(app)
})
afterAll(async () => { await app.close() })

/** Writes `head` at once, then one byte of `drip` every 100 ms until the server closes. */
function trickle (head: string, drip: string): (socket: Socket) => void {
  return (socket) => {
    socket.write(head)
    let i = 0
    const tick = setInterval(() => {
      if (socket.destroyed) { clearInterval(tick); return }
      socket.write(drip[i++ % drip.length]!)
    }, 100)
    socket.on('close', () => clearInterval(tick))
  }
}

async function timed (talk: (socket: Socket) => void): Promise<{ ms: number, text: string }> {
  const started = performance.now()
  const text = await rawExchange(port, talk, ANSWERED_WITHIN_MS + 2000)
  return { ms: performance.now() - started, text }
}

describe('HTTP timeouts', () => {
  it('answers a body sent 1 byte per 100 ms with 408 once the request timeout passes', async () => {
    const body = JSON.stringify({ userId: 'slow-body', placement: 'home', candidates: [{ campaignId: 'a' }] })
    const head = 'POST /v1/decide HTTP/1.1\r\nHost: popguard\r\nAuthorization: Bearer dev-client-key\r\n' +
      `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`
    const { ms, text } = await timed(trickle(head, body))
    const res = parseResponse(text)
    expect(res.status).toBe(408)
    expectErrorShape(res.body, 'request_timeout')
    expect(ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 50)
    expect(ms).toBeLessThan(ANSWERED_WITHIN_MS)
  })

  it('answers headers sent one line per 100 ms with 408 once the headers timeout passes', async () => {
    const { ms, text } = await timed(trickle('GET /healthz HTTP/1.1\r\nHost: popguard\r\n', 'X-Slow: y\r\n'))
    const res = parseResponse(text)
    expect(res.status).toBe(408)
    expectErrorShape(res.body, 'request_timeout')
    expect(ms).toBeLessThan(ANSWERED_WITHIN_MS)
  })

  it('still answers a request that arrives in time, on a kept-alive connection too', async () => {
    const request = 'GET /healthz HTTP/1.1\r\nHost: popguard\r\n\r\n'
    const text = await rawExchange(port, (socket) => {
      socket.write(request)
      setTimeout(() => socket.write(request.replace('\r\n\r\n', '\r\nConnection: close\r\n\r\n')), 300)
    })
    expect(text.match(/HTTP\/1\.1 200 OK/g)).toHaveLength(2)
  })
})
