import { connect, type Socket } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { afterEach, describe, expect, inject, it } from 'vitest'
import { buildApp } from '../src/app.js'
import type { AppConfig } from '../src/config/config.js'
import { expectErrorShape } from './helpers/error-shape.js'
import { AUTH, campaign, NO_SHEDDING, policy, testConfig, uniquePrefix } from './helpers/app.js'
import { scrape } from './helpers/metrics.js'
import { ALLOWED_ORIGIN, deviceConfig } from './helpers/user-tokens.js'

// Real HTTP against a listening app on the suite's real Redis, with the load made here.
let app: FastifyInstance | null = null
afterEach(async () => { await app?.close(); app = null })

async function listening (shedding: Partial<AppConfig['shedding']>, over: Partial<AppConfig> = {}): Promise<string> {
  app = await buildApp(testConfig({
    ...over,
    // Generous: a loaded test machine must not turn a slow Redis reply into a degraded answer here.
    redis: { url: inject('redisUrl'), commandTimeoutMs: 2000 },
    keyPrefix: uniquePrefix(),
    shedding: { ...NO_SHEDDING, ...shedding }
  }), { policy: { policy: policy(), campaigns: [campaign('a')] } })
  return await app.listen({ port: 0, host: '127.0.0.1' })
}

interface Answer { status: number, retryAfter: string | null, body: string, headers?: Headers }

async function decide (url: string, user: string, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(`${url}/v1/decide`, {
    method: 'POST',
    headers: { ...AUTH, 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ userId: user, placement: 'home', candidates: [{ campaignId: 'a' }] })
  })
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: await res.text(), headers: res.headers }
}

/** Polls decide until it answers 200; fails after `ms`. */
async function answeredWithin (url: string, ms: number): Promise<void> {
  const started = Date.now()
  let status = 0
  while (status !== 200 && Date.now() - started < ms) {
    status = (await decide(url, 'probe')).status
    if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 20))
  }
  expect(status, `a decision answered within ${ms} ms`).toBe(200)
}

const get = async (url: string): Promise<number> => (await fetch(url)).status

/**
 * Sends raw HTTP requests on connections opened beforehand, all written in one go, so that the
 * server reads them in one turn of its loop (fetch would spread them over connection set-ups).
 * Resolves with each answer's status.
 */
async function inOneTurn (url: string, requests: string[]): Promise<number[]> {
  const { hostname, port } = new URL(url)
  const sockets = await Promise.all(requests.map(async () => await new Promise<Socket>((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) }, () => { resolve(socket) })
    socket.once('error', reject)
  })))
  const answers = sockets.map(async (socket) => await new Promise<number>((resolve) => {
    let text = ''
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1')
      if (text.includes('\r\n\r\n')) { resolve(Number(text.slice(9, 12))); socket.destroy() }
    })
    socket.once('close', () => { resolve(0) })
  }))
  // Until the server has accepted every connection (an accept is a turn of its own).
  await new Promise((resolve) => setTimeout(resolve, 100))
  sockets.forEach((socket, i) => socket.write(requests[i] ?? ''))
  return await Promise.all(answers)
}

function expectShed (answers: Answer[], reason: string): void {
  const shed = answers.filter((a) => a.status === 503)
  expect(shed.length, 'some requests shed').toBeGreaterThan(0)
  expect(answers.filter((a) => a.status !== 503 && a.status !== 200), 'only 200 and 503').toEqual([])
  for (const a of shed) {
    expect(a.retryAfter).toBe('1')
    expect(expectErrorShape(a.body, 'unavailable').message).toContain(reason)
  }
  // Nothing answered before the shedding decided: no degraded decisions while Redis is healthy.
  for (const a of answers.filter((x) => x.status === 200)) expect(JSON.parse(a.body).candidates[0].reason).not.toBe('degraded')
}

describe('load shedding', () => {
  it('past the in-flight limit answers 503 with Retry-After at once, keeps health and metrics, and counts what it shed', async () => {
    const url = await listening({ maxInFlight: 8 })
    const burst = Array.from({ length: 300 }, async (_, i) => await decide(url, `shed-${i}`))
    const health = await Promise.all([get(`${url}/healthz`), get(`${url}/readyz`), get(`${url}/metrics`)])
    const answers = await Promise.all(burst)
    expect(health).toEqual([200, 200, 200])
    expectShed(answers, 'in flight')
    expect(answers.filter((a) => a.status === 200).length, 'the limit lets requests through').toBeGreaterThanOrEqual(8)
    expect((await scrape(app!)).value('popguard_requests_shed_total', { reason: 'in_flight' })).toBe(answers.filter((a) => a.status === 503).length)
    // Once the burst is over, nothing is shed.
    expect((await decide(url, 'after')).status).toBe(200)
  })

  it('past the event-loop delay limit answers 503 until the loop is quick again; health stays 200', async () => {
    const url = await listening({ maxEventLoopDelayMs: 30 })
    // The start itself (compiling, connecting) keeps the loop busy: wait until a decision is answered.
    await answeredWithin(url, 2000)
    // Real work on this process's loop: 80 ms blocks, 10 ms apart, for a second.
    const until = Date.now() + 1000
    const busy = setInterval(() => {
      const end = performance.now() + 80
      while (performance.now() < end) Math.sqrt(Math.random())
      if (Date.now() > until) clearInterval(busy)
    }, 10)
    await new Promise((resolve) => setTimeout(resolve, 300))
    const during = await Promise.all(Array.from({ length: 20 }, async (_, i) => await decide(url, `loop-${i}`)))
    expect(await get(`${url}/healthz`)).toBe(200)
    expectShed(during, 'event loop delay')
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, until - Date.now()) + 100))
    // Recovery: within 2 s of the load's end decisions are answered again.
    await answeredWithin(url, 2000)
  })

  it('answers a shed request before Fastify sees it, yet with the request id, CORS for an allowed page, and counted as a 503 of its route', async () => {
    const url = await listening({ maxInFlight: 1 }, { endUserTokens: deviceConfig().endUserTokens })
    const answers = await Promise.all(Array.from({ length: 60 }, async (_, i) => await decide(url, `gate-${i}`, { 'x-request-id': `req-${i}`, origin: ALLOWED_ORIGIN })))
    const shed = answers.filter((a) => a.status === 503)
    expectShed(answers, 'in flight')
    for (const [i, a] of answers.entries()) {
      expect(a.headers?.get('x-request-id')).toBe(`req-${i}`)
      if (a.status === 503) {
        expect(a.headers?.get('access-control-allow-origin')).toBe(ALLOWED_ORIGIN)
        expect(a.headers?.get('access-control-expose-headers')).toMatch(/retry-after/)
      }
    }
    const other = await decide(url, 'evil-origin', { origin: 'https://evil.test' })
    expect(other.headers?.get('access-control-allow-origin') ?? null).toBeNull()
    const metrics = await scrape(app!)
    // The availability SLO reads the request histogram: a shed decide is a 503 of /v1/decide there.
    expect(metrics.value('popguard_http_request_duration_seconds_count', { route: '/v1/decide', status_code: '503' })).toBe(shed.length)
    expect(metrics.value('popguard_requests_shed_total', { reason: 'in_flight' })).toBe(shed.length)
  })

  it('labels a shed request with its route pattern, never with the path it came on', async () => {
    const url = await listening({ maxInFlight: 1 })
    const users = await inOneTurn(url, Array.from({ length: 40 }, (_, i) => `GET /v1/users/secret-user-${i}/preferences HTTP/1.1\r\nhost: x\r\nauthorization: Bearer dev-preferences-key\r\n\r\n`))
    const metrics = await scrape(app!)
    const labels = metrics.samples.filter((x) => x.name === 'popguard_http_request_duration_seconds_count' && x.labels.status_code === '503').map((x) => x.labels.route)
    expect(users.filter((st) => st === 503).length, 'some preference reads shed').toBeGreaterThan(0)
    expect(users.filter((st) => st !== 200 && st !== 503)).toEqual([])
    expect(labels).toContain('/v1/users/:userId/preferences')
    expect(metrics.text).not.toContain('secret-user')
  })

  it('admits at most maxPerTurn requests of one turn of the loop and sheds the rest of that turn', async () => {
    const url = await listening({ maxPerTurn: 4 })
    await answeredWithin(url, 2000)
    const requests = Array.from({ length: 40 }, (_, i) => {
      const body = JSON.stringify({ userId: `turn-${i}`, placement: 'home', candidates: [{ campaignId: 'a' }] })
      return `POST /v1/decide HTTP/1.1\r\nhost: x\r\nauthorization: ${AUTH.authorization}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`
    })
    const statuses = await inOneTurn(url, requests)
    expect(statuses.filter((st) => st === 503).length, 'the rest of the turn shed').toBeGreaterThan(0)
    expect(statuses.filter((st) => st === 200).length, 'the turn admits its first maxPerTurn').toBeGreaterThanOrEqual(4)
    expect(statuses.filter((st) => st !== 200 && st !== 503)).toEqual([])
    // The next turn admits again: a lone request is answered.
    expect((await decide(url, 'turn-after')).status).toBe(200)
  })
})
