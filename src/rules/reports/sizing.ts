import { Z95, type CohortFigures, type HoldoutReduction } from './holdout.js'

/** The holdout shares and report ranges the guidance is given for. */
export const SIZING_PERCENTS = [1, 2, 5, 10, 20] as const
export const SIZING_DAYS = [1, 7, 28] as const

export interface SizingInput {
  /** Distinct users asking per day, both cohorts. */
  dailyUsers: number
  /** Share of them in the holdout, 0 < share < 1. */
  holdoutShare: number
  days: number
  /** Coefficient of variation (sd / mean) of marketing pop-ups per user per day, per cohort. */
  cvTreated: number
  cvHoldout: number
  reduction: number
  userCountError: number
}

/**
 * Expected half-width of the 95% interval, in reduction points (0.05 = ±5 points): the interval
 * is [1 - R·e^{z·se}, 1 - R·e^{-z·se}], whose half-width is R·sinh(z·se) with R = 1 - reduction and
 * se² = cv_t²/n_t + cv_h²/n_h + 2e². Over several days it counts user-days as independent.
 */
export function expectedHalfWidth (s: SizingInput): number {
  const users = s.dailyUsers * s.days
  const se = Math.sqrt(s.cvTreated ** 2 / (users * (1 - s.holdoutShare)) + s.cvHoldout ** 2 / (users * s.holdoutShare) + 2 * s.userCountError ** 2)
  return (1 - s.reduction) * Math.sinh(Z95 * se)
}

export interface SizingRow { holdoutPercent: number, days: number, halfWidth: number }

export interface HoldoutSizing {
  /** Distinct users per day with data in the range (both cohorts; user-days / days). */
  dailyUsers: number
  /** The range's spread of pop-ups per user per day, sd / mean, per cohort. */
  cvTreated: number
  cvHoldout: number
  /** The reduction the half-widths assume (the range's). */
  reduction: number
  rows: SizingRow[]
}

const cv = (c: CohortFigures): number | null => c.sdPerUser === null || c.perUser === null || c.perUser === 0 ? null : c.sdPerUser / c.perUser

/** Guidance for choosing the holdout size, from a range's pooled figures; null without an interval to learn the spread from. */
export function holdoutSizing (pooled: HoldoutReduction, daysWithUsers: number, userCountError: number): HoldoutSizing | null {
  const cvTreated = cv(pooled.treated)
  const cvHoldout = cv(pooled.holdout)
  if (pooled.ci95 === null || pooled.reduction === null || cvTreated === null || cvHoldout === null || daysWithUsers === 0) return null
  const dailyUsers = (pooled.treated.users + pooled.holdout.users) / daysWithUsers
  const reduction = pooled.reduction
  const rows = SIZING_PERCENTS.flatMap((percent) => SIZING_DAYS.map((days) => ({
    holdoutPercent: percent,
    days,
    halfWidth: expectedHalfWidth({ dailyUsers, holdoutShare: percent / 100, days, cvTreated, cvHoldout, reduction, userCountError })
  })))
  return { dailyUsers, cvTreated, cvHoldout, reduction, rows }
}
