/**
 * A range of days: the pooled interval (user-days as independent draws), the second check from
 * the scatter of the daily reductions, and the holdout-size guidance, against seeded simulations.
 */
import { describe, expect, it } from 'vitest'
import { dailyReport, type DailyReport } from '../../src/rules/reports/daily.js'
import { chiSquareCdf, t975 } from '../../src/rules/reports/spread.js'
import type { StoredDay } from '../../src/rules/reports/stored-day.js'
import { cohortSizes, normal, poissonLognormal, seeded, simDays, simulateDay, simulatePanelDay, storedDay, trueReduction, type DaySums } from '../helpers/holdout-sim.js'

const demand = poissonLognormal(0.8, 1.1)
const DAYS = 7
const days = simDays(DAYS)

function report (sums: DaySums[]): DailyReport {
  const range = simDays(sums.length)
  const stored: StoredDay[] = sums.map((s, i) => storedDay(range[i]!, s))
  return dailyReport(stored, { from: range[0]!, to: range[range.length - 1]!, timezone: 'UTC' }, 0)
}

const covers = (ci: { low: number, high: number } | null | undefined, truth: number): boolean => ci != null && ci.low <= truth && truth <= ci.high

describe('the distributions behind the check', () => {
  it('gives the chi-square and t percentiles of the tables', () => {
    expect(chiSquareCdf(6.6349, 1)).toBeCloseTo(0.99, 4)
    expect(chiSquareCdf(9.2103, 2)).toBeCloseTo(0.99, 4)
    expect(chiSquareCdf(0.020101, 2)).toBeCloseTo(0.01, 4)
    expect(chiSquareCdf(16.812, 6)).toBeCloseTo(0.99, 4)
    expect(chiSquareCdf(0.87209, 6)).toBeCloseTo(0.01, 4)
    expect(chiSquareCdf(135.807, 100)).toBeCloseTo(0.99, 4)
    expect(chiSquareCdf(70.065, 100)).toBeCloseTo(0.01, 4)
    expect(chiSquareCdf(0, 3)).toBe(0)
    expect(t975(2)).toBe(4.303)
    expect(t975(30)).toBe(2.042)
    expect(t975(60)).toBeCloseTo(2.0003, 3)
    expect(t975(120)).toBeCloseTo(1.9799, 3)
  })
})

describe('a week of simulated days', () => {
  it('with new users every day: both intervals cover the truth about 95% of the time, and the check says they agree', () => {
    const r = seeded(1807)
    const truth = trueReduction(demand, 3)
    const runs = 300
    let pooled = 0
    let spread = 0
    let agree = 0
    for (let i = 0; i < runs; i++) {
      const rep = report(days.map(() => simulateDay(demand, r, { ...cohortSizes(3000, 0.1), cap: 3 })))
      if (covers(rep.summary.holdout.ci95, truth)) pooled++
      if (covers(rep.summary.dailySpread?.ci95, truth)) spread++
      if (rep.summary.dailySpread?.agreement === 'agree') agree++
    }
    expect(pooled / runs).toBeGreaterThanOrEqual(0.92)
    expect(pooled / runs).toBeLessThanOrEqual(0.98)
    expect(spread / runs).toBeGreaterThanOrEqual(0.92)
    expect(spread / runs).toBeLessThanOrEqual(0.98)
    expect(agree / runs).toBeGreaterThanOrEqual(0.95)
  })

  it('with the same users every day for two weeks: the pooled interval is too narrow, and the check says the users return', () => {
    const r = seeded(1808)
    const truth = trueReduction(demand, 3)
    const runs = 100
    let pooled = 0
    let returning = 0
    for (let i = 0; i < runs; i++) {
      // Each user keeps their own rate every day: heavy users stay heavy.
      const lambdas = Array.from({ length: 2000 }, () => Math.exp(0.8 + 1.1 * normal(r)))
      const inHoldout = lambdas.map(() => r() < 0.1)
      const rep = report(simDays(14).map(() => simulatePanelDay(lambdas, inHoldout, r, 3)))
      if (covers(rep.summary.holdout.ci95, truth)) pooled++
      if (rep.summary.dailySpread?.agreement === 'users_return') returning++
    }
    expect(pooled / runs).toBeLessThan(0.8)
    expect(returning / runs).toBeGreaterThanOrEqual(0.9)
  })

  it('when the rules changed halfway (cap 1, then cap 5): the check says the days differ', () => {
    const r = seeded(1809)
    const runs = 100
    let differ = 0
    for (let i = 0; i < runs; i++) {
      const rep = report(days.map((_, d) => simulateDay(demand, r, { ...cohortSizes(3000, 0.1), cap: d < 3 ? 1 : 5 })))
      if (rep.summary.dailySpread?.agreement === 'days_differ') differ++
    }
    expect(differ / runs).toBeGreaterThanOrEqual(0.95)
  })

  it('needs three days with an interval', () => {
    const r = seeded(1810)
    const two = dailyReport(days.slice(0, 2).map((d) => storedDay(d, simulateDay(demand, r, { ...cohortSizes(3000, 0.1), cap: 3 }))),
      { from: days[0]!, to: days[1]!, timezone: 'UTC' }, 0)
    expect(two.summary.dailySpread).toBeNull()
    expect(two.summary.holdout.ci95).not.toBeNull()
  })
})

describe('the holdout-size guidance', () => {
  it('predicts the half-width another holdout share would give, from the spread a week at 10% showed', () => {
    const r = seeded(1811)
    const week = report(days.map(() => simulateDay(demand, r, { ...cohortSizes(3000, 0.1), cap: 3 })))
    const sizing = week.summary.sizing!
    expect(sizing.dailyUsers).toBe(3000)
    const predicted = sizing.rows.find((row) => row.holdoutPercent === 2 && row.days === 7)!.halfWidth
    // What a 2% holdout gives over a week, measured.
    const runs = 200
    let sum = 0
    for (let i = 0; i < runs; i++) {
      const ci = report(days.map(() => simulateDay(demand, r, { ...cohortSizes(3000, 0.02), cap: 3 }))).summary.holdout.ci95!
      sum += (ci.high - ci.low) / 2
    }
    expect(predicted / (sum / runs)).toBeGreaterThan(0.85)
    expect(predicted / (sum / runs)).toBeLessThan(1.15)
  })
})
