/** Why a candidate was or was not shown; the order of the rules is the order in DESIGN.md. */
export const REASONS = [
  'eligible',
  'campaign_unknown',
  'campaign_inactive',
  'opted_out',
  'do_not_interrupt',
  'quiet_hours',
  'fatigue',
  'cooldown',
  'cap_exceeded',
  'lower_priority',
  'degraded'
] as const
export type Reason = typeof REASONS[number]

export type Cohort = 'treated' | 'holdout'
export type ClassCode = 'c' | 's' | 'm'

/** A cap as the store applies it to one candidate: which past impressions count, since when. */
export interface PlanCap {
  id: string
  /** Effective limit (after `reserve`). */
  limit: number
  /** Impressions at or after this instant (ms) count. */
  since: number
  /** For a calendar-day cap: when the day ends (ms); 0 for a rolling window. */
  resetAt: number
  /** Rolling window length (ms); 0 for a calendar-day cap. */
  windowMs: number
  /** Codes an impression must carry to count; '' matches any. */
  campaignCode: string
  categoryCode: string
  placementCode: string
  /** In shadow mode: a hit is reported in the verdict's `shadow`, never applied. */
  shadow: boolean
}

export interface PlanCandidate {
  classCode: ClassCode
  priority: number
  /** Campaign and category codes, and the category's name (preferences are kept by name). */
  campaignCode: string
  categoryCode: string
  categoryName: string
  /** A verdict reached without the user's state (unknown or inactive campaign), else ''. */
  final: '' | 'campaign_unknown' | 'campaign_inactive'
  /** A stateless rule that applies after opt-out (do not interrupt, quiet hours), else ''. */
  gate: '' | 'do_not_interrupt' | 'quiet_hours'
  gateRetryMs: number
  caps: PlanCap[]
  /** Quiet hours in shadow mode that would hold this candidate (reported, not applied), else ''. */
  shadowGate: '' | 'quiet_hours'
}

/** Everything the store needs for one decision: plain data, the same for the Lua script and the in-memory store. */
export interface DecisionPlan {
  now: number
  decisionId: string
  /** Short id stored with the impression so events can find it. */
  nonce: string
  /** Client request id for idempotency, or ''. */
  requestId: string
  /** false in shadow mode and for the holdout cohort: frequency rules are evaluated, not applied. */
  enforce: boolean
  placementCode: string
  horizonMs: number
  ledgerTtlMs: number
  leaseMs: number
  /** Unconfirmed reservations past their lease are released (true) or counted (false). */
  releaseUnconfirmed: boolean
  cooldownMs: number
  /** The cooldown and the fatigue backoff in shadow mode: reported, not applied. */
  cooldownShadow: boolean
  fatigueShadow: boolean
  idempotencyTtlMs: number
  /** Opaque to the store, returned on replay: policy version, mode and cohort of the first answer. */
  echo: string
  candidates: PlanCandidate[]
}

export interface Verdict {
  reason: Reason
  capId?: string
  retryMs?: number
  /** The rule would have suppressed the candidate but was not applied (shadow mode, holdout). */
  unenforced?: boolean
  /** A rule in shadow mode (`"mode": "shadow"` on the rule) that would have suppressed the candidate; never applied. */
  shadow?: { reason: Reason, capId?: string }
}

export interface StoreOutcome {
  decisionId: string
  /** Index of the candidate to show, or -1. */
  winner: number
  verdicts: Verdict[]
  echo: string
  replayed: boolean
  /**
   * No consent rule (opt-out, category opt-out, snooze, complaint, fatigue backoff) is in force for
   * the user: a cooldown then covers every marketing campaign (the over-limit cache). Redis only.
   */
  consentClear?: boolean
}
