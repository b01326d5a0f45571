/**
 * The second check, on a running popguard: two instances on one Redis, 240 users with
 * heavy-tailed demand and a 50% holdout report their `shown` events (some twice). The report's
 * standard error must be the one the actual per-user counts give, not the Poisson one.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { cohortOf } from '../../src/rules/decide/cohort.js'
import { Z95 } from '../../src/rules/reports/holdout.js'
import { campaign, policy, TestClock, uniquePrefix } from '../helpers/app.js'
import { normal, poisson, seeded } from '../helpers/holdout-sim.js'
import { reportApp, type ReportApp } from '../helpers/reports.js'

const HOLDOUT = { percent: 50, salt: 'per-user-spread' }
const USERS = 240
const clock = new TestClock(Date.parse('2026-05-04T08:00:00Z'))
const file = {
  policy: policy({ caps: [{ id: 'daily', per: 'user', limit: 3, window: 'calendarDay' }], holdout: HOLDOUT }),
  campaigns: [campaign('spring-sale', { priority: 50 }), campaign('cashback', { priority: 40 })]
}

/** n, mean, sample variance of a list of per-user counts: the plain definitions. */
function stats (xs: number[]): { n: number, mean: number, variance: number } {
  const n = xs.length
  const mean = xs.reduce((s, x) => s + x, 0) / n
  return { n, mean, variance: xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1) }
}

describe('the per-user spread on a running popguard (Redis, two instances)', () => {
  const prefix = uniquePrefix()
  const apps: ReportApp[] = []
  afterAll(async () => { await Promise.all(apps.map(async (a) => await a.app.close())) })

  it('gives the standard error the actual per-user counts give, counted once, in the right day', async () => {
    apps.push(await reportApp('redis', file, prefix, clock), await reportApp('redis', file, prefix, clock))
    const [one, two] = apps as [ReportApp, ReportApp]
    const r = seeded(18)
    // Shows per user, as the test itself saw them confirmed.
    const shownTo = new Map<string, number>()
    const events: Record<string, unknown>[] = []
    for (let u = 0; u < USERS; u++) {
      const userId = `spread-user-${u}`
      const asks = Math.max(1, Math.min(60, poisson(r, Math.exp(0.8 + 1.1 * normal(r)))))
      shownTo.set(userId, 0)
      for (let a = 0; a < asks; a++) {
        const answer = await (a % 2 === 0 ? one : two).decide({ userId, placement: 'home', candidates: [{ campaignId: 'spring-sale' }, { campaignId: 'cashback' }] })
        if (answer.show === null) continue
        shownTo.set(userId, (shownTo.get(userId) ?? 0) + 1)
        events.push({ decisionId: answer.decisionId, userId, campaignId: answer.show.campaignId, type: 'shown' })
      }
    }
    // Sent from either instance, in batches, and a tenth of them again: a resent event counts once.
    for (let i = 0; i < events.length; i += 200) {
      const batch = events.slice(i, i + 200)
      expect(await (i % 400 === 0 ? one : two).events(batch)).toBe(batch.length)
      expect(await (i % 400 === 0 ? two : one).events(batch.filter((_, k) => k % 10 === 0))).toBe(0)
    }
    await one.app.reports.flusher.flush()
    await two.app.reports.flusher.flush()

    const cohorts = { treated: [] as number[], holdout: [] as number[] }
    for (const [userId, n] of shownTo) cohorts[cohortOf(userId, HOLDOUT)].push(n)
    const { body } = await one.get('/v1/reports/daily?from=2026-05-04&to=2026-05-04')
    const h = body.days[0].holdout
    for (const c of ['treated', 'holdout'] as const) {
      const xs = cohorts[c]
      expect(h[c].shown).toBe(xs.reduce((s, x) => s + x, 0))
      expect(h[c].shownSquared).toBe(xs.reduce((s, x) => s + x * x, 0))
      // Users come from a HyperLogLog: near-exact at this size.
      expect(Math.abs(h[c].users - xs.length)).toBeLessThanOrEqual(2)
    }
    expect(Math.max(...cohorts.holdout)).toBeGreaterThan(12) // heavy tails: some holdout users ask all day

    // The standard error of log R from the per-user counts (with the HyperLogLog term the report adds).
    const t = stats(cohorts.treated)
    const o = stats(cohorts.holdout)
    const actual = Math.sqrt(t.variance / (t.n * t.mean ** 2) + o.variance / (o.n * o.mean ** 2) + 2 * 0.0081 ** 2)
    expect(h.standardError / actual).toBeGreaterThan(0.97)
    expect(h.standardError / actual).toBeLessThan(1.03)
    const poissonSe = Math.sqrt(1 / h.treated.shown + 1 / h.holdout.shown + 2 * 0.0081 ** 2)
    expect(h.standardError / poissonSe).toBeGreaterThan(1.3)
    const logR = Math.log(t.mean / o.mean)
    expect(h.ci95.low).toBeCloseTo(1 - Math.exp(logR + Z95 * actual), 1)
    expect(h.ci95.high).toBeCloseTo(1 - Math.exp(logR - Z95 * actual), 1)
    if (process.env.POPGUARD_PRINT_COVERAGE === '1') console.info({ report: h.standardError, fromUsers: actual, poisson: poissonSe })

    // The next report day starts from zero: one user's next shows count 1, 2 there, squares 1 + 3.
    clock.advance(24 * 3_600_000)
    const userId = [...shownTo.keys()].find((id) => cohortOf(id, HOLDOUT) === 'holdout')!
    for (let a = 0; a < 2; a++) {
      const answer = await two.decide({ userId, placement: 'home', candidates: [{ campaignId: 'spring-sale' }] })
      expect(await one.events([{ decisionId: answer.decisionId, userId, campaignId: 'spring-sale', type: 'shown' }])).toBe(1)
    }
    await one.app.reports.flusher.flush()
    const next = await two.get('/v1/reports/daily?from=2026-05-05&to=2026-05-05')
    expect(next.body.days[0].holdout.holdout).toMatchObject({ users: 1, shown: 2, shownSquared: 4 })
  }, 120_000)
})
