import { describe, expect, it } from 'vitest'
import { FEW_USERS, holdoutReduction, type CohortCounts } from '../../src/rules/reports/holdout.js'

/** n, Σx and Σx² of a cohort given as {shows per user: users}. */
function counts (table: Record<number, number>): CohortCounts {
  const rows = Object.entries(table).map(([x, users]) => [Number(x), users] as const)
  return {
    users: rows.reduce((s, [, u]) => s + u, 0),
    shown: rows.reduce((s, [x, u]) => s + x * u, 0),
    shownSquared: rows.reduce((s, [x, u]) => s + x * x * u, 0)
  }
}

/** The standard deviation of shows per user, from the list of users itself. */
function sdOf (table: Record<number, number>): number {
  const xs = Object.entries(table).flatMap(([x, users]) => new Array<number>(users).fill(Number(x)))
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length
  return Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (xs.length - 1))
}

// The worked example of docs/reports.md: one day, 20,000 users, a 5% holdout. Treated users are capped
// at 3 a day; holdout users are not, and a few of them ask all day long.
const TREATED = { 0: 3800, 1: 5700, 2: 5700, 3: 3800 }
const HOLDOUT = { 0: 100, 1: 200, 2: 200, 4: 200, 8: 200, 20: 100 }

describe('the holdout reduction', () => {
  const treated = counts(TREATED)
  const holdout = counts(HOLDOUT)

  it('is 1 - treated per user / holdout per user, with each cohort\'s users, shows per user and their spread', () => {
    expect(treated).toEqual({ users: 19_000, shown: 28_500, shownSquared: 62_700 })
    expect(holdout).toEqual({ users: 1000, shown: 5000, shownSquared: 57_000 })
    const r = holdoutReduction(treated, holdout, { userCountError: 0 })
    expect(r.reduction).toBeCloseTo(0.7, 12) // 1.5 against 5.0 a user
    expect(r.treated).toMatchObject({ users: 19_000, shown: 28_500, perUser: 1.5, usersDropped: 0 })
    expect(r.holdout).toMatchObject({ users: 1000, shown: 5000, perUser: 5, usersDropped: 0 })
    expect(r.treated.sdPerUser).toBeCloseTo(sdOf(TREATED), 10)
    expect(r.holdout.sdPerUser).toBeCloseTo(sdOf(HOLDOUT), 10)
    expect(r.caveat).toBeNull()
  })

  it('has a 95% interval from the per-user spread (worked by hand in docs/reports.md)', () => {
    // Var(log R) = s_t²/(n_t m_t²) + s_h²/(n_h m_h²) = 1.0501/(19000·2.25) + 32.032/(1000·25) = 0.03614²
    const r = holdoutReduction(treated, holdout, { userCountError: 0 })
    expect(r.standardError).toBeCloseTo(0.0361365, 6)
    expect(r.ci95?.low).toBeCloseTo(0.677982, 5)
    expect(r.ci95?.high).toBeCloseTo(0.720513, 5)
  })

  it('is more than twice as wide as the Poisson interval it replaces, which these counts would give as 69.1% to 70.9%', () => {
    const r = holdoutReduction(treated, holdout, { userCountError: 0 })
    const poissonSe = Math.sqrt(1 / 28_500 + 1 / 5000)
    expect(r.standardError! / poissonSe).toBeGreaterThan(2.3)
  })

  it('widens the interval by the HyperLogLog error of both user counts', () => {
    const r = holdoutReduction(treated, holdout)
    expect(r.standardError).toBeCloseTo(Math.sqrt(0.0361365 ** 2 + 2 * 0.0081 ** 2), 6)
    expect(r.ci95?.low).toBeCloseTo(0.676861, 5)
    expect(r.ci95?.high).toBeCloseTo(0.721482, 5)
  })

  it('gives no figure without holdout impressions, and no interval without treated ones', () => {
    expect(holdoutReduction(treated, { users: 100, shown: 0, shownSquared: 0 })).toMatchObject({ reduction: null, ci95: null })
    expect(holdoutReduction({ users: 0, shown: 0, shownSquared: 0 }, holdout)).toMatchObject({ reduction: null, ci95: null })
    expect(holdoutReduction({ users: 1000, shown: 0, shownSquared: 0 }, holdout)).toMatchObject({ reduction: 1, ci95: null, standardError: null })
  })

  it('gives no interval for counts without their spread (days counted before it was), and says why', () => {
    const r = holdoutReduction(treated, { ...holdout, shownSquared: 0 })
    expect(r).toMatchObject({ reduction: expect.closeTo(0.7, 12), ci95: null, standardError: null, caveat: 'spread_not_recorded' })
    expect(r.holdout.sdPerUser).toBeNull()
    expect(holdoutReduction(treated, holdout, { spreadRecorded: false })).toMatchObject({ ci95: null, caveat: 'spread_not_recorded' })
  })

  it('warns when a cohort has too few users for the interval to be trusted', () => {
    const small = counts({ 0: 99, 1: 20, 2: 20, 4: 20, 8: 20, 20: 20 })
    expect(small.users).toBe(FEW_USERS - 1)
    expect(holdoutReduction(treated, small).caveat).toBe('few_users')
    expect(holdoutReduction(treated, counts({ ...HOLDOUT })).caveat).toBeNull()
  })
})
