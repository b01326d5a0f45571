/**
 * While Redis is away the report counter cannot flush: the distinct users it holds for the
 * day's HyperLogLog stay under POPGUARD_REPORTS_MAX_PENDING_USERS, the rest are counted as
 * dropped (a metric, and in the day's figures once Redis is back: a lower bound).
 */
import type { FastifyInstance } from 'fastify'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.js'
import { reportDay } from '../../src/rules/reports/day.js'
import { AUTH, campaign, policy, TestClock, testConfig, uniquePrefix } from '../helpers/app.js'
import { scrape } from '../helpers/metrics.js'
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js'
import { REPORTS_AUTH } from '../helpers/reports.js'

const CAP = 100

describe('report counts while Redis is away', () => {
  let server: RedisServer
  let app: FastifyInstance
  const clock = new TestClock()
  const decide = async (userId: string) =>
    await app.inject({ method: 'POST', url: '/v1/decide', headers: AUTH, payload: { userId, placement: 'home', candidates: [{ campaignId: 'a' }] } })

  beforeAll(async () => {
    server = await startRedisServer()
    app = await buildApp(testConfig({
      redis: { url: server.url, commandTimeoutMs: 200 },
      keyPrefix: uniquePrefix(),
      reports: { flushEveryMs: 3_600_000, retentionDays: 400, maxPendingUsers: CAP }
    }), { policy: { policy: policy(), campaigns: [campaign('a')] }, clock: clock.now })
  })
  afterAll(async () => {
    await app.close()
    await server.stop()
  })

  it('holds at most the cap of user pseudonyms, counts the rest as dropped, and reports the day as a lower bound', async () => {
    await server.stop()
    for (let i = 0; i < 5 * CAP; i++) expect((await decide(`outage-user-${i}`)).statusCode).toBe(200)
    for (let attempt = 0; attempt < 3; attempt++) expect(await app.reports.flusher.flush()).toBe(false)
    for (let i = 0; i < CAP; i++) await decide(`outage-user-${i}`) // users already held are no new drops

    const during = await scrape(app)
    expect(during.value('popguard_report_pending_users')).toBe(CAP)
    expect(during.value('popguard_report_users_dropped_total')).toBe(4 * CAP)
    expect(during.value('popguard_decisions_degraded_total')).toBe(6 * CAP)

    await server.start()
    const day = reportDay(clock.now(), 'UTC')
    let report: any
    for (let attempt = 0; attempt < 50 && report === undefined; attempt++) {
      const res = await app.inject({ method: 'GET', url: `/v1/reports/daily?from=${day}&to=${day}`, headers: REPORTS_AUTH })
      if (res.statusCode === 200) report = res.json()
      else await new Promise((resolve) => setTimeout(resolve, 100))
    }
    const treated = report.days[0].holdout.treated
    expect(treated.usersDropped).toBe(4 * CAP)
    expect(Math.abs(treated.users - CAP)).toBeLessThanOrEqual(2) // a HyperLogLog estimate
    expect(report.summary.holdout.treated.usersDropped).toBe(4 * CAP)
    expect(report.days[0].decisions).toBe(6 * CAP) // decisions themselves are all counted
    expect((await scrape(app)).value('popguard_report_pending_users')).toBe(0)
  })

  it('keeps at most one more cap\'s worth in the batch whose flush timed out (Redis paused), and flushes it all once Redis answers', async () => {
    const admin = new Redis(server.url)
    const before = await scrape(app)
    const asMany = async (from: number) => await Promise.all(Array.from({ length: 2 * CAP }, async (_, i) => await decide(`paused-user-${from + i}`)))
    try {
      expect(await app.reports.flusher.flush()).toBe(true)
      await admin.call('CLIENT', 'PAUSE', '6000', 'ALL')
      await asMany(0)
      expect(await app.reports.flusher.flush()).toBe(false) // timed out: the batch may have applied, it waits with its id
      await asMany(2 * CAP)
      const during = await scrape(app)
      expect(during.value('popguard_report_pending_users')).toBe(2 * CAP)
      expect(during.value('popguard_report_users_dropped_total') - before.value('popguard_report_users_dropped_total')).toBe(2 * CAP)
    } finally {
      await admin.call('CLIENT', 'UNPAUSE')
      admin.disconnect()
    }
    let flushed = false
    for (let attempt = 0; attempt < 50 && !flushed; attempt++) {
      flushed = await app.reports.flusher.flush()
      if (!flushed) await new Promise((resolve) => setTimeout(resolve, 100))
    }
    expect(flushed).toBe(true)
    expect((await scrape(app)).value('popguard_report_pending_users')).toBe(0)
  })
})
