import { hasSpread, holdoutReduction, type CohortCounts, type HoldoutReduction } from './holdout.js'
import { PREFERENCES_COUNTS, SHOWN_SQUARES, USERS_DROPPED } from './batch.js'
import { dailySpread, type DailySpread } from './spread.js'
import { holdoutSizing, type HoldoutSizing } from './sizing.js'
import { add, candidateCounts, decisionCount, eventCounts } from './parse.js'
import type { StoredDay } from './stored-day.js'
import { wouldSuppress } from './shadow.js'

const COHORTS = ['treated', 'holdout'] as const

export interface DailyRow {
  day: string
  /** Candidates named in decisions (all classes). */
  requested: number
  decisions: number
  /** Decisions that answered with a pop-up to show. */
  allowed: number
  /** Pop-ups confirmed shown (`shown` events, all classes). */
  shown: number
  degraded: number
  /** Candidates not shown, by the rule that stopped them. */
  suppressed: Record<string, number>
  /** Candidates a rule in shadow mode would have suppressed, by rule: `cap:<id>`, `cooldown`, `quiet_hours`, `fatigue`. */
  wouldSuppress: Record<string, number>
  marketing: {
    /** Decisions with at least one marketing candidate: slots a marketing pop-up wanted. */
    requested: number
    allowed: number
    shown: number
    /** (a) 1 - shown / requested. */
    reduction: number | null
  }
  /** (b) holdout vs treated: marketing pop-ups shown per user per day. */
  holdout: HoldoutReduction
  /** Users' preference changes that day (through the API and the preference centre). */
  preferences: PreferenceCounts
}

export interface PreferenceCounts {
  marketingOff: number
  marketingOn: number
  categoryOff: number
  categoryOn: number
  snoozed: number
  snoozeEnded: number
  /** Of these changes, those the users made themselves on the preference centre. */
  viaPreferenceCenter: number
}

function preferenceCounts (day: StoredDay): PreferenceCounts {
  const n = (name: string): number => decisionCount(day, PREFERENCES_COUNTS, name)
  return {
    marketingOff: n('marketing_off'),
    marketingOn: n('marketing_on'),
    categoryOff: n('category_off'),
    categoryOn: n('category_on'),
    snoozed: n('snooze'),
    snoozeEnded: n('snooze_ended'),
    viaPreferenceCenter: n('via:preference_center')
  }
}

interface Totals {
  mRequested: number
  mShown: number
  cohorts: { treated: CohortCounts, holdout: CohortCounts }
  usersDropped: { treated: number, holdout: number }
  spreadRecorded: boolean
}

function rowOf (day: StoredDay, userCountError: number): { row: DailyRow, totals: Totals } {
  const suppressed: Record<string, number> = {}
  let requested = 0
  for (const c of candidateCounts(day)) {
    requested += c.n
    if (!c.allowed) add(suppressed, c.reason, c.n)
  }
  let shown = 0
  const cohortShown: Record<string, number> = { treated: 0, holdout: 0 }
  for (const e of eventCounts(day)) {
    if (e.type !== 'shown') continue
    shown += e.n
    if (e.campaignClass === 'marketing') add(cohortShown, e.cohort, e.n)
  }
  const sum = (name: string): number => COHORTS.reduce((s, c) => s + decisionCount(day, c, name), 0)
  const mRequested = sum('mslots')
  const mShown = (cohortShown.treated ?? 0) + (cohortShown.holdout ?? 0)
  const cohort = (c: 'treated' | 'holdout'): CohortCounts =>
    ({ users: day.users[c], shown: cohortShown[c] ?? 0, shownSquared: decisionCount(day, c, SHOWN_SQUARES) })
  const cohorts = { treated: cohort('treated'), holdout: cohort('holdout') }
  const usersDropped = { treated: decisionCount(day, 'treated', USERS_DROPPED), holdout: decisionCount(day, 'holdout', USERS_DROPPED) }
  const spreadRecorded = hasSpread(cohorts.treated) && hasSpread(cohorts.holdout)
  return {
    row: {
      day: day.day,
      requested,
      decisions: sum('decisions'),
      allowed: sum('allowed'),
      shown,
      degraded: sum('degraded'),
      suppressed,
      wouldSuppress: wouldSuppress(day),
      marketing: { requested: mRequested, allowed: sum('mallowed'), shown: mShown, reduction: mRequested > 0 ? 1 - mShown / mRequested : null },
      holdout: holdoutReduction(cohorts.treated, cohorts.holdout, { userCountError, usersDropped }),
      preferences: preferenceCounts(day)
    },
    totals: { mRequested, mShown, cohorts, usersDropped, spreadRecorded }
  }
}

export interface DailyReport {
  from: string
  to: string
  timezone: string
  days: DailyRow[]
  summary: {
    marketingReduction: number | null
    /** The whole range pooled: users are user-days (the same user on two days counts as two independent draws). */
    holdout: HoldoutReduction
    /** The second check: the scatter of the daily reductions (null below 3 days with an interval). */
    dailySpread: DailySpread | null
    /** What other holdout sizes would give, from this range's users and spread. */
    sizing: HoldoutSizing | null
  }
}

export function dailyReport (stored: StoredDay[], range: { from: string, to: string, timezone: string }, userCountError: number): DailyReport {
  const rows = stored.map((d) => rowOf(d, userCountError))
  const pooled = (f: (t: Totals) => number): number => rows.reduce((s, r) => s + f(r.totals), 0)
  const mRequested = pooled((t) => t.mRequested)
  const cohort = (c: 'treated' | 'holdout'): CohortCounts => ({
    users: pooled((t) => t.cohorts[c].users),
    shown: pooled((t) => t.cohorts[c].shown),
    shownSquared: pooled((t) => t.cohorts[c].shownSquared)
  })
  const holdout = holdoutReduction(cohort('treated'), cohort('holdout'), {
    userCountError,
    usersDropped: { treated: pooled((t) => t.usersDropped.treated), holdout: pooled((t) => t.usersDropped.holdout) },
    spreadRecorded: rows.every((r) => r.totals.spreadRecorded)
  })
  const daysWithUsers = rows.filter((r) => r.totals.cohorts.treated.users + r.totals.cohorts.holdout.users > 0).length
  return {
    ...range,
    days: rows.map((r) => r.row),
    summary: {
      marketingReduction: mRequested > 0 ? 1 - pooled((t) => t.mShown) / mRequested : null,
      holdout,
      dailySpread: dailySpread(rows.map((r) => r.row.holdout)),
      sizing: holdoutSizing(holdout, daysWithUsers, userCountError)
    }
  }
}
