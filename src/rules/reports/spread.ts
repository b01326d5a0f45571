import type { HoldoutReduction } from './holdout.js'

/**
 * The second check of a range's reduction: how much the daily reductions scatter, against how
 * much their own intervals say they should. docs/reports.md, "Ranges of several days".
 */
export interface DailySpread {
  /** Days of the range that have a daily interval: the check needs at least 3. */
  days: number
  /** 1 - exp(mean of the daily log rate ratios). */
  reduction: number
  /** 95% t interval (days - 1 degrees of freedom) from the scatter of the daily log rate ratios. */
  ci95: { low: number, high: number }
  /** Cochran's Q: Σ (daily log ratio - weighted mean)² / daily standard error², χ² with days - 1 degrees of freedom when the days agree. */
  q: number
  /**
   * `days_differ`: Q above the 99th percentile, the reduction moved during the range; `users_return`: Q below
   * the 1st, the days agree more than independent users allow (the same users every day); else `agree`.
   */
  agreement: 'agree' | 'days_differ' | 'users_return'
}

export const MIN_SPREAD_DAYS = 3
const T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131,
  2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042]

/** The 97.5th percentile of Student's t: a table to 30 degrees of freedom, then its Cornish-Fisher expansion. */
export function t975 (df: number): number {
  const tabled = T975[df - 1]
  if (tabled !== undefined) return tabled
  const z = 1.959964
  return z + (z ** 3 + z) / (4 * df) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df ** 2)
}

/** ln Γ(x) for x > 0 (Lanczos, g = 7). */
function lnGamma (x: number): number {
  const c = [0.9999999999998099, 676.5203681218851, -1259.1392167224028, 771.3234287776531, -176.61503916999186,
    12.507343278686905, -0.13857109526572012, 9.984369578019572e-6, 1.5056327351493116e-7]
  x -= 1
  let a = c[0] as number
  const t = x + 7.5
  for (let i = 1; i < 9; i++) a += (c[i] as number) / (x + i)
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a)
}

/** P(χ²_k ≤ x): the regularized lower incomplete gamma P(k/2, x/2), by its series or continued fraction. */
export function chiSquareCdf (x: number, k: number): number {
  if (x <= 0) return 0
  const a = k / 2
  const y = x / 2
  const front = Math.exp(-y + a * Math.log(y) - lnGamma(a))
  if (y < a + 1) {
    let term = 1 / a
    let sum = term
    for (let n = 1; n < 500 && Math.abs(term) > Math.abs(sum) * 1e-15; n++) sum += (term *= y / (a + n))
    return Math.min(1, front * sum)
  }
  // Lentz's continued fraction for the upper tail Q(a, y).
  let b = y + 1 - a
  let c = 1e300
  let d = 1 / b
  let h = d
  for (let i = 1; i < 500; i++) {
    const an = -i * (i - a)
    b += 2
    d = an * d + b
    d = Math.abs(d) < 1e-300 ? 1e300 : 1 / d
    c = b + an / c
    if (Math.abs(c) < 1e-300) c = 1e-300
    h *= d * c
    if (Math.abs(d * c - 1) < 1e-15) break
  }
  return Math.max(0, 1 - front * h)
}

/** The check over the days that have a daily interval; null below MIN_SPREAD_DAYS of them. */
export function dailySpread (days: readonly HoldoutReduction[]): DailySpread | null {
  const points = days.flatMap((d) => d.reduction !== null && d.reduction < 1 && d.standardError !== null && d.standardError > 0
    ? [{ log: Math.log(1 - d.reduction), se: d.standardError }]
    : [])
  const n = points.length
  if (n < MIN_SPREAD_DAYS) return null
  const mean = points.reduce((s, p) => s + p.log, 0) / n
  const sd = Math.sqrt(points.reduce((s, p) => s + (p.log - mean) ** 2, 0) / (n - 1))
  const half = t975(n - 1) * sd / Math.sqrt(n)
  const weights = points.map((p) => 1 / p.se ** 2)
  const weighted = points.reduce((s, p, i) => s + (weights[i] as number) * p.log, 0) / weights.reduce((s, w) => s + w, 0)
  const q = points.reduce((s, p, i) => s + (weights[i] as number) * (p.log - weighted) ** 2, 0)
  const p = chiSquareCdf(q, n - 1)
  return {
    days: n,
    reduction: 1 - Math.exp(mean),
    ci95: { low: 1 - Math.exp(mean + half), high: 1 - Math.exp(mean - half) },
    q,
    agreement: p > 0.99 ? 'days_differ' : p < 0.01 ? 'users_return' : 'agree'
  }
}
