import type { StoredDay } from './stored-day.js'

/** One candidate count, its field split into names. */
export interface CandidateCount {
  campaign: string
  placement: string
  campaignClass: string
  cohort: string
  allowed: boolean
  reason: string
  enforced: boolean
  n: number
}

export interface EventCount { campaign: string, cohort: string, campaignClass: string, type: string, n: number }

export function candidateCounts (day: StoredDay): CandidateCount[] {
  return Object.entries(day.candidates).map(([field, n]) => {
    const [campaign = '', placement = '', campaignClass = '', cohort = '', verdict = '', reason = '', enforced = ''] = field.split('|')
    return { campaign, placement, campaignClass, cohort, allowed: verdict === 'a', reason, enforced: enforced === '1', n }
  })
}

export function eventCounts (day: StoredDay): EventCount[] {
  return Object.entries(day.events).map(([field, n]) => {
    const [campaign = '', cohort = '', campaignClass = '', type = ''] = field.split('|')
    return { campaign, cohort, campaignClass, type, n }
  })
}

/** A decision count of one cohort, e.g. `decisions`, `mslots`. */
export const decisionCount = (day: StoredDay, cohort: string, name: string): number => day.decisions[`${cohort}|${name}`] ?? 0

/** Adds `n` to `record[key]`. */
export function add (record: Record<string, number>, key: string, n: number): void {
  record[key] = (record[key] ?? 0) + n
}
