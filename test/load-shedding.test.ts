import type { FastifyInstance } from 'fastify'
import { afterEach, describe, expect, inject, it } from 'vitest'
import { buildApp } from '../src/app.js'
import type { AppConfig } from '../src/config/config.js'
import { expectErrorShape } from './helpers/error-shape.js'
import { AUTH, campaign, NO_SHEDDING, policy, testConfig, uniquePrefix } from './helpers/app.js'
import { scrape } from './helpers/metrics.js'

// Real HTTP against a listening app on the suite's real Redis, with the load made here.
let app: FastifyInstance | null = null
afterEach(async () => { await app?.close(); app = null })

async function listening (shedding: Partial<AppConfig['shedding']>): Promise<string> {
  app = await buildApp(testConfig({
    // Generous: a loaded test machine must not turn a slow Redis reply into a degraded answer here.
    redis: { url: inject('redisUrl'), commandTimeoutMs: 2000 },
    keyPrefix: uniquePrefix(),
    shedding: { ...NO_SHEDDING, ...shedding }
  }), { policy: { policy: policy(), campaigns: [campaign('a')] } })
  return await app.listen({ port: 0, host: '127.0.0.1' })
}

interface Answer { status: number, retryAfter: string | null, body: string }

async function decide (url: string, user: string): Promise<Answer> {
  const res = await fetch(`${url}/v1/decide`, {
    method: 'POST',
    headers: { ...AUTH, 'content-type': 'application/json' },
    body: JSON.stringify({ userId: user, placement: 'home', candidates: [{ campaignId: 'a' }] })
  })
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: await res.text() }
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
})
