/**
 * The numbers docs/reports.md quotes for the reduction's interval, from the test suite's seeded
 * simulations (test/helpers/holdout-sim.ts): coverage by holdout size, the range checks with new
 * and with returning users, and the holdout-size table. `npx tsx bench/holdout-interval.ts` (a minute or so).
 */
import { dailyReport } from '../src/rules/reports/daily.js'
import { holdoutReduction, HLL_RELATIVE_ERROR } from '../src/rules/reports/holdout.js'
import { expectedHalfWidth } from '../src/rules/reports/sizing.js'
import { cohortSizes, normal, poissonLognormal, seeded, simDays, simulateDay, simulatePanelDay, storedDay, trueReduction, type DaySums } from '../test/helpers/holdout-sim.js'

const demand = poissonLognormal(0.8, 1.1)
const truth = trueReduction(demand, 3)
const covers = (ci: { low: number, high: number } | null | undefined): boolean => ci != null && ci.low <= truth && truth <= ci.high

function coverageBySize (): void {
  console.log('coverage of one day\'s interval by holdout users (treated 19x as many, cap 3, 2,000 experiments each)')
  for (const holdout of [50, 100, 200, 300, 500, 1000]) {
    const r = seeded(holdout)
    let hits = 0
    for (let i = 0; i < 2000; i++) {
      const day = simulateDay(demand, r, { treated: 19 * holdout, holdout, cap: 3 })
      if (covers(holdoutReduction(day.treated, day.holdout, { userCountError: 0 }).ci95)) hits++
    }
    console.log(`  ${holdout} holdout users: ${(hits / 2000).toFixed(3)}`)
  }
}

function ranges (): void {
  console.log('ranges (300 each): 1,600 new users a day at 10%, or the same 2,000 users (10%) every day; cap 3')
  for (const [label, returning, days] of [['new users', false, 7], ['new users', false, 14], ['returning', true, 7], ['returning', true, 14]] as const) {
    const r = seeded(5)
    let pooled = 0
    let spread = 0
    const agreement: Record<string, number> = {}
    for (let i = 0; i < 300; i++) {
      let sums: DaySums[]
      if (returning) {
        const lambdas = Array.from({ length: 2000 }, () => Math.exp(0.8 + 1.1 * normal(r)))
        const inHoldout = lambdas.map(() => r() < 0.1)
        sums = simDays(days).map(() => simulatePanelDay(lambdas, inHoldout, r, 3))
      } else {
        sums = simDays(days).map(() => simulateDay(demand, r, { ...cohortSizes(1600, 0.1), cap: 3 }))
      }
      const range = simDays(days)
      const rep = dailyReport(sums.map((s, d) => storedDay(range[d]!, s)), { from: range[0]!, to: range[days - 1]!, timezone: 'UTC' }, 0)
      if (covers(rep.summary.holdout.ci95)) pooled++
      if (covers(rep.summary.dailySpread?.ci95)) spread++
      const a = rep.summary.dailySpread?.agreement ?? 'none'
      agreement[a] = (agreement[a] ?? 0) + 1
    }
    console.log(`  ${label}, ${days} days: pooled covers ${(pooled / 300).toFixed(2)}, day-to-day covers ${(spread / 300).toFixed(2)},`, agreement)
  }
}

function sizing (): void {
  const mean = (f: (k: number) => number): number => {
    let s = 0
    demand.pmf.forEach((p, k) => { if (k > 0) s += f(k) * p / demand.pAsk })
    return s
  }
  const cv = (cap: number): number => {
    const m = mean((k) => Math.min(k, cap))
    return Math.sqrt(mean((k) => Math.min(k, cap) ** 2) - m ** 2) / m
  }
  const cvHoldout = cv(Infinity)
  const cvTreated = cv(3)
  console.log(`holdout-size table: cv holdout ${cvHoldout.toFixed(2)}, cv treated ${cvTreated.toFixed(2)}, reduction ${(truth * 100).toFixed(1)}%; ± points over 1, 7, 28 days`)
  for (const users of [2000, 20_000, 200_000]) {
    for (const percent of [1, 2, 5, 10, 20]) {
      const widths = [1, 7, 28].map((days) => expectedHalfWidth({ dailyUsers: users, holdoutShare: percent / 100, days, cvTreated, cvHoldout, reduction: truth, userCountError: HLL_RELATIVE_ERROR }))
      console.log(`  ${users} users a day, ${percent}%: ${widths.map((w) => (w * 100).toFixed(1)).join(' · ')}`)
    }
  }
}

coverageBySize()
ranges()
sizing()
