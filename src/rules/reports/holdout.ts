/** Relative standard error of a Redis HyperLogLog count. */
export const HLL_RELATIVE_ERROR = 0.0081
const Z95 = 1.959964

export interface CohortCounts {
  /** Distinct users who asked for a decision (user-days when summed over days). */
  users: number
  /** Marketing pop-ups confirmed shown. */
  shown: number
}

export interface CohortFigures extends CohortCounts {
  perUser: number | null
  /**
   * Users left out of `users` because too many waited in memory while the store was away
   * (POPGUARD_REPORTS_MAX_PENDING_USERS): above 0, `users` is a lower bound and `perUser` an upper one.
   */
  usersDropped: number
}

export interface HoldoutReduction {
  treated: CohortFigures
  holdout: CohortFigures
  /** 1 - (treated shown per user) / (holdout shown per user); null when the holdout shows nothing. */
  reduction: number | null
  /** 95% interval of the reduction; null when either cohort has no shown pop-up. */
  ci95: { low: number, high: number } | null
}

const figures = (c: CohortCounts, usersDropped: number): CohortFigures =>
  ({ ...c, perUser: c.users > 0 ? c.shown / c.users : null, usersDropped })

/**
 * The reduction the holdout measures, with a 95% interval on the log rate ratio:
 * Var(log R) = 1/X_t + 1/X_h (Poisson counts) + 2·e² (relative error e of each user count).
 * docs/reports.md explains the choice.
 */
export function holdoutReduction (treated: CohortCounts, holdout: CohortCounts, userCountError = HLL_RELATIVE_ERROR,
  usersDropped = { treated: 0, holdout: 0 }): HoldoutReduction {
  const t = figures(treated, usersDropped.treated)
  const h = figures(holdout, usersDropped.holdout)
  if (t.perUser === null || h.perUser === null || h.perUser === 0) return { treated: t, holdout: h, reduction: null, ci95: null }
  const ratio = t.perUser / h.perUser
  const reduction = 1 - ratio
  if (treated.shown === 0) return { treated: t, holdout: h, reduction, ci95: null }
  const se = Math.sqrt(1 / treated.shown + 1 / holdout.shown + 2 * userCountError ** 2)
  const logRatio = Math.log(ratio)
  return {
    treated: t,
    holdout: h,
    reduction,
    ci95: { low: 1 - Math.exp(logRatio + Z95 * se), high: 1 - Math.exp(logRatio - Z95 * se) }
  }
}
