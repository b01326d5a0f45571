/** What a client reports after a decision. */
export const EVENT_TYPES = ['shown', 'discarded', 'dismissed', 'clicked', 'converted', 'complained'] as const
export type EventType = typeof EVENT_TYPES[number]

/** One character per type, as the store's dedupe log keeps it. */
export const EVENT_CODE: Record<EventType, EventCode> = {
  shown: 's', discarded: 'd', dismissed: 'm', clicked: 'k', converted: 'v', complained: 'x'
}
export type EventCode = 's' | 'd' | 'm' | 'k' | 'v' | 'x'

/** Why the store did or did not apply an event. */
export const EVENT_OUTCOMES = ['accepted', 'duplicate', 'unknown_decision', 'lease_expired', 'already_shown'] as const
export type EventOutcome = typeof EVENT_OUTCOMES[number]

export interface FatigueRule {
  /** Dismissals of one campaign that trigger a backoff; 0: no dismissal rule. */
  dismissals: number
  withinMs: number
  backoffMs: number
}

/** One event as the store applies it: decision nonce, campaign code, type code, event time (ms). */
export interface StoreEvent { n: string, c: string, t: EventCode, ts: number }

/** One user's events and the rules they need: plain data, the same for events.lua and the memory store. */
export interface EventBatch {
  now: number
  leaseMs: number
  releaseUnconfirmed: boolean
  /** How long an applied event is remembered for dedupe (the ledger's horizon: older decisions are gone anyway). */
  logHorizonMs: number
  logTtlMs: number
  fatigueTtlMs: number
  fatigue: FatigueRule
  events: StoreEvent[]
}
