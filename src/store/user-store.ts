import type { DecisionPlan, StoreOutcome } from '../rules/decide/types.js'
import type { Impression } from '../rules/decide/user-state.js'
import type { LoggedEvent } from '../rules/events/apply.js'
import type { AppliedEvents, EventBatch } from '../rules/events/types.js'

/** Records added to a user's preference history with a preferences write: newest first, at most `keep` kept. */
export interface HistoryAppend {
  /** Oldest first, as they happened; each a JSON record (src/rules/users/preference-center.ts). */
  entries: string[]
  keep: number
  ttlMs: number
}

/** Everything a store keeps about one user, decoded: the same for every adapter. */
export interface StoredUser {
  ledger: Impression[]
  preferences: Record<string, string>
  fatigue: Record<string, string>
  /** Applied events, remembered for dedupe. */
  eventLog: LoggedEvent[]
  /** Idempotency records: request id → when it stops counting (ms, the decision's clock). */
  replies: Record<string, number>
  /** Preference history, newest first. */
  history: string[]
}

/**
 * Everything popguard keeps per user sits behind this interface: Redis in
 * production, memory for a single development instance. Both implement the same
 * rules (src/rules/decide/evaluate.ts and src/redis/user-store/decide.lua).
 */
export interface Store {
  readonly kind: 'memory' | 'redis' | 'redis-cluster'
  /** A store that guards its calls with a circuit breaker shows its state (metrics); memory has none. */
  readonly breaker?: { readonly state: 'closed' | 'open' | 'half_open' }
  /** Runs the stateful rules and records the impression in one atomic step. */
  decide (userTag: string, plan: DecisionPlan): Promise<StoreOutcome>
  /** The user's preferences hash (empty when none were set). */
  readPreferences (userTag: string): Promise<Record<string, string>>
  /**
   * Replaces the user's preferences hash whole, with a fresh TTL; with `history`, records the
   * change in the user's preference history in the same atomic step.
   */
  writePreferences (userTag: string, hash: Record<string, string>, ttlMs: number, history?: HistoryAppend): Promise<void>
  /** The user's preference history, newest first (empty when none). */
  readHistory (userTag: string): Promise<string[]>
  /** The user's impression ledger as decisions left it (read only: nothing is pruned or written). */
  readLedger (userTag: string): Promise<Impression[]>
  /** Applies one user's events atomically, in order; one outcome (and day count) per event. */
  applyEvents (userTag: string, batch: EventBatch): Promise<AppliedEvents>
  /** Everything kept about the user (nothing when none), in one read. */
  readUser (userTag: string): Promise<StoredUser>
  /** Removes every key of the user; answers how many there were. */
  erase (userTag: string): Promise<number>
  /** Waits (at most timeoutMs) for the first connection; false when it did not come. Never throws. */
  waitUntilReady (timeoutMs: number): Promise<boolean>
  /** Resolves when the store answers. */
  ping (): Promise<void>
  close (): Promise<void>
}

/** The store did not answer in time or at all; the caller falls back to the policy's onStoreFailure. */
export class StoreUnavailableError extends Error {
  constructor (message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'StoreUnavailableError'
  }
}
