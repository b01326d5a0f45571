import { holdoutReduction, type HoldoutReduction } from './holdout.js'
import { USERS_DROPPED } from './batch.js'
import { add, candidateCounts, decisionCount, eventCounts } from './parse.js'
import type { StoredDay } from './stored-day.js'

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
}

interface Totals {
  mRequested: number
  mShown: number
  users: Record<string, number>
  usersDropped: { treated: number, holdout: number }
  cohortShown: Record<string, number>
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
    if (e.cls === 'marketing') add(cohortShown, e.cohort, e.n)
  }
  const sum = (name: string): number => COHORTS.reduce((s, c) => s + decisionCount(day, c, name), 0)
  const mRequested = sum('mslots')
  const mShown = (cohortShown.treated ?? 0) + (cohortShown.holdout ?? 0)
  const users = { treated: day.users.treated, holdout: day.users.holdout }
  const usersDropped = { treated: decisionCount(day, 'treated', USERS_DROPPED), holdout: decisionCount(day, 'holdout', USERS_DROPPED) }
  return {
    row: {
      day: day.day,
      requested,
      decisions: sum('decisions'),
      allowed: sum('allowed'),
      shown,
      degraded: sum('degraded'),
      suppressed,
      marketing: { requested: mRequested, allowed: sum('mallowed'), shown: mShown, reduction: mRequested > 0 ? 1 - mShown / mRequested : null },
      holdout: holdoutReduction(
        { users: users.treated, shown: cohortShown.treated ?? 0 },
        { users: users.holdout, shown: cohortShown.holdout ?? 0 },
        userCountError, usersDropped)
    },
    totals: { mRequested, mShown, users, usersDropped, cohortShown }
  }
}

export interface DailyReport {
  from: string
  to: string
  timezone: string
  days: DailyRow[]
  /** The whole range pooled: users are user-days, so per-user figures stay per day. */
  summary: { marketingReduction: number | null, holdout: HoldoutReduction }
}

export function dailyReport (stored: StoredDay[], range: { from: string, to: string, timezone: string }, userCountError: number): DailyReport {
  const rows = stored.map((d) => rowOf(d, userCountError))
  const pooled = (f: (t: Totals) => number): number => rows.reduce((s, r) => s + f(r.totals), 0)
  const mRequested = pooled((t) => t.mRequested)
  return {
    ...range,
    days: rows.map((r) => r.row),
    summary: {
      marketingReduction: mRequested > 0 ? 1 - pooled((t) => t.mShown) / mRequested : null,
      holdout: holdoutReduction(
        { users: pooled((t) => t.users.treated ?? 0), shown: pooled((t) => t.cohortShown.treated ?? 0) },
        { users: pooled((t) => t.users.holdout ?? 0), shown: pooled((t) => t.cohortShown.holdout ?? 0) },
        userCountError,
        { treated: pooled((t) => t.usersDropped.treated), holdout: pooled((t) => t.usersDropped.holdout) })
    }
  }
}
