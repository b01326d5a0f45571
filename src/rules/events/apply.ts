/**
 * One user's events applied to that user's state, as a pure function. The memory
 * store runs it directly; src/redis/user-store/events.lua is its twin for Redis.
 */
import { base36, MAX_EVENT_LOG_RECORDS } from '../decide/limits.js'
import type { Impression } from '../decide/user-state.js'
import type { EventBatch, EventOutcome, StoreEvent } from './types.js'

/** An event already applied: remembered so the same event twice counts once. */
export interface LoggedEvent { ts: number, t: string, n: string }

export interface EventState {
  ledger: Impression[]
  /** The fatigue hash, field → value, as Redis keeps it. */
  fatigue: Record<string, string>
  log: LoggedEvent[]
}

export interface EventResult extends EventState {
  outcomes: EventOutcome[]
  /** See AppliedEvents.dayShows. */
  dayShows: number[]
  ledgerChanged: boolean
  fatigueChanged: boolean
  logChanged: boolean
}

function dismissed (fatigue: Record<string, string>, e: StoreEvent, batch: EventBatch): void {
  const rule = batch.fatigue
  const field = 'd:' + e.c
  const recent = (fatigue[field] ?? '').split(',').filter((s) => s !== '')
    .map((s) => parseInt(s, 36)).filter((ts) => ts > e.ts - rule.withinMs)
  recent.push(e.ts)
  if (recent.length >= rule.dismissals) {
    const prior = Number(fatigue['b:' + e.c] ?? 0)
    const until = Math.max(Number.isFinite(prior) ? prior : 0, e.ts + rule.backoffMs)
    fatigue['b:' + e.c] = String(until)
    delete fatigue[field]
  } else {
    fatigue[field] = recent.map(base36).join(',')
  }
}

/** The ledger or fatigue change one event makes, or why it makes none. */
function applyOne (state: EventState, e: StoreEvent, batch: EventBatch): { outcome: EventOutcome, ledger: boolean, fatigue: boolean } {
  const at = state.ledger.findIndex((i) => i.nonce === e.n && i.campaignCode === e.c)
  const entry = state.ledger[at]
  if (entry === undefined) return { outcome: 'unknown_decision', ledger: false, fatigue: false }
  const leaseOver = entry.state === 'r' && entry.ts + batch.leaseMs <= batch.now
  const ok = (ledger: boolean, fatigue: boolean) => ({ outcome: 'accepted' as const, ledger, fatigue })
  switch (e.t) {
    case 's':
      if (entry.state === 'c') return ok(false, false)
      if (leaseOver && batch.releaseUnconfirmed) return { outcome: 'lease_expired', ledger: false, fatigue: false }
      state.ledger[at] = { ...entry, state: 'c' }
      return ok(true, false)
    case 'd':
      if (entry.state === 'c') return { outcome: 'already_shown', ledger: false, fatigue: false }
      if (leaseOver && !batch.releaseUnconfirmed) return { outcome: 'lease_expired', ledger: false, fatigue: false }
      state.ledger.splice(at, 1)
      return ok(true, false)
    case 'm':
      if (batch.fatigue.dismissals === 0) return ok(false, false)
      dismissed(state.fatigue, e, batch)
      return ok(false, true)
    case 'x':
      state.fatigue['x:' + e.c] = '1'
      delete state.fatigue['d:' + e.c]
      return ok(false, true)
    default: {
      // clicked, converted: the dismissal streak starts over.
      const had = ('d:' + e.c) in state.fatigue
      delete state.fatigue['d:' + e.c]
      return ok(false, had)
    }
  }
}

const inDay = (ts: number, batch: EventBatch): boolean => ts >= batch.dayStartMs && ts < batch.dayEndMs

/**
 * Accepted marketing `shown` events the log holds for the report day: the dedupe log keeps each
 * applied event with the time it was received, and the ledger says which decisions were marketing.
 */
function marketingShownInDay (log: readonly LoggedEvent[], ledger: readonly Impression[], batch: EventBatch): number {
  const marketing = new Set(ledger.filter((i) => i.classCode === 'm').map((i) => i.nonce))
  return log.filter((l) => l.t === 's' && inDay(l.ts, batch) && marketing.has(l.n)).length
}

export function applyEvents (before: EventState, batch: EventBatch): EventResult {
  const state: EventState = {
    ledger: [...before.ledger],
    fatigue: { ...before.fatigue },
    log: before.log.filter((l) => l.ts > batch.now - batch.logHorizonMs)
  }
  const outcomes: EventOutcome[] = []
  const dayShows: number[] = []
  // Without a report day (the simulator passes none) nothing is in the day: the count is never read.
  let shownInDay = batch.dayEndMs > batch.dayStartMs ? marketingShownInDay(state.log, state.ledger, batch) : 0
  let ledgerChanged = false
  let fatigueChanged = false
  let logChanged = state.log.length !== before.log.length
  const seen = new Set(state.log.map((l) => l.n + l.t))
  for (const e of batch.events) {
    dayShows.push(0)
    if (seen.has(e.n + e.t)) {
      outcomes.push('duplicate')
      continue
    }
    const { outcome, ledger, fatigue } = applyOne(state, e, batch)
    outcomes.push(outcome)
    if (outcome !== 'accepted') continue
    const shownRecord = e.t === 's' ? state.ledger.find((i) => i.nonce === e.n && i.campaignCode === e.c) : undefined
    if (shownRecord?.classCode === 'm' && inDay(batch.now, batch)) dayShows[dayShows.length - 1] = ++shownInDay
    seen.add(e.n + e.t)
    state.log.push({ ts: batch.now, t: e.t, n: e.n })
    logChanged = true
    ledgerChanged ||= ledger
    fatigueChanged ||= fatigue
  }
  // The newest MAX_EVENT_LOG_RECORDS are remembered: a resent event older than those counts again.
  if (state.log.length > MAX_EVENT_LOG_RECORDS) state.log = state.log.slice(-MAX_EVENT_LOG_RECORDS)
  return { ...state, outcomes, dayShows, ledgerChanged, fatigueChanged, logChanged }
}
