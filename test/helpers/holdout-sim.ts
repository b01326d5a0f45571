/**
 * Seeded simulations of a holdout experiment, for the tests that hold the reduction's interval to
 * its promised coverage. A user who asks A times a day, A ~ Poisson(λ) with λ lognormal (heavy
 * tailed: a few users ask dozens of times); a holdout user is shown every ask, a treated one at
 * most `cap`. Only users who asked count (the report's users are users who asked).
 */
import type { StoredDay } from '../../src/rules/reports/stored-day.js'
import { SHOWN_SQUARES } from '../../src/rules/reports/batch.js'

/** mulberry32: small, fast, and the same sequence on every machine. */
export function seeded (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6D2B79F5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export function normal (r: () => number): number {
  let u = 0
  while (u === 0) u = r()
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r())
}

/** Poisson(λ) by inversion, in chunks of 30 so e^-λ never underflows. */
export function poisson (r: () => number, lambda: number): number {
  let k = 0
  for (; lambda > 30; lambda -= 30) k += poisson(r, 30)
  const u = r()
  let p = Math.exp(-lambda)
  let cdf = p
  let j = 0
  while (u > cdf && j < 10_000) {
    j++
    p *= lambda / j
    cdf += p
  }
  return k + j
}

/** The daily asks of a user, A ~ Poisson(lognormal(mu, sigma)), as a table (quadrature over λ). */
export interface Demand {
  /** P(A ≥ 1): the share of users who ask at all. */
  pAsk: number
  /** P(A = k), k = 0..max. */
  pmf: Float64Array
  /** P(A ≤ k | A ≥ 1). */
  cdf: Float64Array
}

export function poissonLognormal (mu: number, sigma: number, max = 3000): Demand {
  const pmf = new Float64Array(max + 1)
  const step = 0.01
  for (let z = -8; z <= 8; z += step) {
    const weight = Math.exp(-z * z / 2) / Math.sqrt(2 * Math.PI) * step
    const lambda = Math.exp(mu + sigma * z)
    let logP = -lambda
    for (let k = 0; k <= max; k++) {
      if (k > 0) logP += Math.log(lambda / k)
      if (k > lambda && logP < -40) break
      pmf[k] = (pmf[k] as number) + weight * Math.exp(logP)
    }
  }
  const total = pmf.reduce((s, p) => s + p, 0)
  for (let k = 0; k <= max; k++) pmf[k] = (pmf[k] as number) / total
  const pAsk = 1 - (pmf[0] as number)
  const cdf = new Float64Array(max + 1)
  let c = 0
  for (let k = 1; k <= max; k++) cdf[k] = (c += (pmf[k] as number) / pAsk)
  cdf[max] = 1
  return { pAsk, pmf, cdf }
}

/** The asks of one user who asked (A ≥ 1). */
export function drawAsks (d: Demand, r: () => number): number {
  const u = r()
  let lo = 1
  let hi = d.cdf.length - 1
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if ((d.cdf[mid] as number) < u) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** The true reduction a cap makes: 1 - E[min(A, cap)] / E[A]. */
export function trueReduction (d: Demand, cap: number): number {
  let capped = 0
  let all = 0
  d.pmf.forEach((p, k) => { capped += Math.min(k, cap) * p; all += k * p })
  return 1 - capped / all
}

export interface CohortSums { users: number, shown: number, shownSquared: number }
export interface DaySums { treated: CohortSums, holdout: CohortSums }

const empty = (): CohortSums => ({ users: 0, shown: 0, shownSquared: 0 })

function add (c: CohortSums, x: number): void {
  c.users++
  c.shown += x
  c.shownSquared += x * x
}

/** Cohort sizes of a day: `users` who asked, `holdoutShare` of them in the holdout. */
export function cohortSizes (users: number, holdoutShare: number): { treated: number, holdout: number } {
  const holdout = Math.round(users * holdoutShare)
  return { treated: users - holdout, holdout }
}

/**
 * One day of the given numbers of users who asked (the report's interval is conditional on them):
 * holdout users are shown every ask, treated users at most `cap`.
 */
export function simulateDay (d: Demand, r: () => number, s: { treated: number, holdout: number, cap: number }): DaySums {
  // Treated users only need min(A, cap): a draw from cap values.
  const capped = Float64Array.from({ length: s.cap }, (_, j) => j + 1 === s.cap ? 1 : (d.cdf[j + 1] as number))
  let shown = 0
  let squared = 0
  for (let i = 0; i < s.treated; i++) {
    const u = r()
    let x = 1
    while (u > (capped[x - 1] as number)) x++
    shown += x
    squared += x * x
  }
  const treated = { users: s.treated, shown, shownSquared: squared }
  shown = squared = 0
  for (let i = 0; i < s.holdout; i++) {
    const x = drawAsks(d, r)
    shown += x
    squared += x * x
  }
  return { treated, holdout: { users: s.holdout, shown, shownSquared: squared } }
}

/** One day of a fixed panel of users, each with the daily rate λ they keep every day (users who return). */
export function simulatePanelDay (lambdas: readonly number[], inHoldout: readonly boolean[], r: () => number, cap: number): DaySums {
  const day = { treated: empty(), holdout: empty() }
  lambdas.forEach((lambda, i) => {
    const asks = poisson(r, lambda)
    if (asks === 0) return
    if (inHoldout[i] === true) add(day.holdout, asks)
    else add(day.treated, Math.min(asks, cap))
  })
  return day
}

/**
 * The day as the report store holds it. With `userCountError` the user counts carry a relative
 * error of that size, as a HyperLogLog's do.
 */
export function storedDay (day: string, sums: DaySums, userCountError = 0, r?: () => number): StoredDay {
  const counted = (n: number): number => userCountError === 0 || r === undefined ? n : Math.round(n * (1 + userCountError * normal(r)))
  return {
    day,
    candidates: {},
    decisions: { [`treated|${SHOWN_SQUARES}`]: sums.treated.shownSquared, [`holdout|${SHOWN_SQUARES}`]: sums.holdout.shownSquared },
    events: { 'promo|treated|marketing|shown': sums.treated.shown, 'promo|holdout|marketing|shown': sums.holdout.shown },
    users: { treated: counted(sums.treated.users), holdout: counted(sums.holdout.users) }
  }
}

/** `n` consecutive days from 2026-03-02. */
export const simDays = (n: number): string[] => Array.from({ length: n }, (_, i) => new Date(Date.UTC(2026, 2, 2 + i)).toISOString().slice(0, 10))
