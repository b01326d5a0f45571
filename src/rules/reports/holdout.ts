/** Relative standard error of a Redis HyperLogLog count. */
export const HLL_RELATIVE_ERROR = 0.0081
export const Z95 = 1.959964
/**
 * Users (user-days over a range) a cohort needs before its interval is trusted: with fewer, a
 * heavy-tailed holdout makes it too narrow (coverage about 0.92 at 100, docs/reports.md).
 */
export const FEW_USERS = 200

export interface CohortCounts {
  /** Distinct users who asked for a decision (user-days when summed over days). */
  users: number
  /** Marketing pop-ups confirmed shown. */
  shown: number
  /** Σ over users of (marketing pop-ups shown to that user in the day)². */
  shownSquared: number
}

export interface CohortFigures extends CohortCounts {
  perUser: number | null
  /** Standard deviation of marketing pop-ups shown per user (per user-day); null below 2 users or without the spread. */
  sdPerUser: number | null
  /**
   * Users left out of `users` because too many waited in memory while the store was away
   * (POPGUARD_REPORTS_MAX_PENDING_USERS): above 0, `users` is a lower bound and `perUser` an upper one.
   */
  usersDropped: number
}

/**
 * Why the interval should be read with care: `few_users`, a cohort has fewer than FEW_USERS users;
 * `spread_not_recorded`, a day's shows were counted without their per-user spread (no interval).
 */
export type IntervalCaveat = 'few_users' | 'spread_not_recorded' | null

export interface HoldoutReduction {
  treated: CohortFigures
  holdout: CohortFigures
  /** 1 - (treated shown per user) / (holdout shown per user); null when the holdout shows nothing. */
  reduction: number | null
  /** 95% interval of the reduction; null when either cohort has no shown pop-up. */
  ci95: { low: number, high: number } | null
  /** Standard error of log(treated per user / holdout per user); null without an interval. */
  standardError: number | null
  caveat: IntervalCaveat
}

export interface HoldoutOptions {
  /** Relative error of each cohort's user count (0 when exact). */
  userCountError?: number
  usersDropped?: { treated: number, holdout: number }
  /** False when some day's shows were counted without shownSquared (see IntervalCaveat). */
  spreadRecorded?: boolean
}

/** Each show adds at least 1 to shownSquared: less means the spread was not counted. */
export const hasSpread = (c: CohortCounts): boolean => c.shownSquared >= c.shown

/** Sample variance of shows per user, from n, Σx and Σx² (clamped: an estimated n may make it dip below 0). */
function perUserVariance (c: CohortCounts): number {
  return Math.max(0, (c.shownSquared - c.shown ** 2 / c.users) / (c.users - 1))
}

function figures (c: CohortCounts, usersDropped: number, spread: boolean): CohortFigures {
  return {
    ...c,
    perUser: c.users > 0 ? c.shown / c.users : null,
    sdPerUser: c.users >= 2 && spread ? Math.sqrt(perUserVariance(c)) : null,
    usersDropped
  }
}

/**
 * Relative variance of a cohort's shows per user: Var(mean)/mean² = s²/(n·mean²), with s² the
 * per-user variance (users are independent draws; the delta method on the log of the mean).
 */
const relativeVariance = (c: CohortCounts): number => perUserVariance(c) * c.users / c.shown ** 2

/**
 * The reduction the holdout measures, with a 95% interval on the log rate ratio R:
 * Var(log R) = s_t²/(n_t·m_t²) + s_h²/(n_h·m_h²) + 2·e² (per-user spread of each cohort; relative
 * error e of each user count). docs/reports.md explains the choice and test/reports/coverage.test.ts
 * holds it to 95% coverage.
 */
export function holdoutReduction (treated: CohortCounts, holdout: CohortCounts, opts: HoldoutOptions = {}): HoldoutReduction {
  const e = opts.userCountError ?? HLL_RELATIVE_ERROR
  const dropped = opts.usersDropped ?? { treated: 0, holdout: 0 }
  const spread = (opts.spreadRecorded ?? true) && hasSpread(treated) && hasSpread(holdout)
  const t = figures(treated, dropped.treated, spread)
  const h = figures(holdout, dropped.holdout, spread)
  const none = { treated: t, holdout: h, ci95: null, standardError: null, caveat: null }
  if (t.perUser === null || h.perUser === null || h.perUser === 0) return { ...none, reduction: null }
  const ratio = t.perUser / h.perUser
  const reduction = 1 - ratio
  if (treated.shown === 0 || treated.users < 2 || holdout.users < 2) return { ...none, reduction }
  if (!spread) return { ...none, reduction, caveat: 'spread_not_recorded' }
  const se = Math.sqrt(relativeVariance(treated) + relativeVariance(holdout) + 2 * e ** 2)
  const logRatio = Math.log(ratio)
  return {
    treated: t,
    holdout: h,
    reduction,
    ci95: { low: 1 - Math.exp(logRatio + Z95 * se), high: 1 - Math.exp(logRatio - Z95 * se) },
    standardError: se,
    caveat: Math.min(treated.users, holdout.users) < FEW_USERS ? 'few_users' : null
  }
}
