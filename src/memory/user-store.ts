import { evaluate } from '../rules/decide/evaluate.js'
import { MAX_REPLIES, NONCE_LENGTH, REPLIES_KEPT } from '../rules/decide/limits.js'
import type { DecisionPlan, StoreOutcome } from '../rules/decide/types.js'
import type { Impression } from '../rules/decide/user-state.js'
import { applyEvents, type LoggedEvent } from '../rules/events/apply.js'
import type { AppliedEvents, EventBatch } from '../rules/events/types.js'
import { fatigueForRules, preferencesForRules } from '../rules/users/preferences.js'
import type { HistoryAppend, Store, StoredUser } from '../store/user-store.js'

interface Expiring<T> { value: T, expiresAt: number }
/** An idempotency record: the first answer to a request id, and when it stops counting. */
interface Reply { outcome: string, expiresAt: number, nonce: string }

/** One user's state, one entry per Redis key, each with its own lifetime. */
interface UserEntries {
  ledger?: Expiring<Impression[]>
  prefs?: Expiring<Record<string, string>>
  fatigue?: Expiring<Record<string, string>>
  log?: Expiring<LoggedEvent[]>
  /** One hash in Redis: the hash expires as a whole, each record by the time it carries. */
  replies?: Expiring<Map<string, Reply>>
  /** Preference history, newest first (a list in Redis). */
  history?: Expiring<string[]>
}

const isEmpty = (hash: Record<string, string>): boolean => Object.keys(hash).length === 0
const HEX_NONCE = new RegExp(`^[0-9a-f]{${NONCE_LENGTH}}$`, 'i')
const nonceOrder = (nonce: string): number => HEX_NONCE.test(nonce) ? parseInt(nonce, 16) : 0

/**
 * The record that makes MAX_REPLIES + 1 drops the expired ones and keeps the REPLIES_KEPT newest
 * (oldest first by expiry, then by nonce): the twin of the prune in decide.lua.
 */
function pruneReplies (replies: Map<string, Reply>, now: number): void {
  if (replies.size <= MAX_REPLIES) return
  const live: [string, Reply][] = []
  for (const [id, r] of replies) {
    if (r.expiresAt > now) live.push([id, r])
    else replies.delete(id)
  }
  live.sort(([, a], [, b]) => a.expiresAt - b.expiresAt || nonceOrder(a.nonce) - nonceOrder(b.nonce))
  for (const [id] of live.slice(0, Math.max(0, live.length - REPLIES_KEPT))) replies.delete(id)
}

/**
 * The embedded store: one process only, nothing survives a restart. It runs the
 * same pure rules as the Lua scripts, and keeps TTLs like Redis does.
 */
export class MemoryStore implements Store {
  readonly kind = 'memory' as const
  private readonly users = new Map<string, UserEntries>()
  private readonly sweeper: NodeJS.Timeout

  constructor (private readonly clock: () => number = Date.now) {
    this.sweeper = setInterval(() => this.sweep(), 60_000)
    this.sweeper.unref()
  }

  async decide (userTag: string, plan: DecisionPlan): Promise<StoreOutcome> {
    const user = this.user(userTag)
    const replies = this.live(user.replies)
    if (plan.requestId !== '') {
      const prior = replies?.get(plan.requestId)
      if (prior !== undefined && prior.expiresAt > plan.now) return { ...JSON.parse(prior.outcome) as StoreOutcome, replayed: true }
    }
    const before = this.live(user.ledger) ?? []
    const state = {
      ledger: before,
      prefs: preferencesForRules(this.live(user.prefs)),
      fatigue: fatigueForRules(this.live(user.fatigue))
    }
    const { winner, verdicts, ledger, consentClear } = evaluate(plan, state)
    // Written only when it changed, as decide.lua does: a decision that shows nothing keeps the TTL.
    if (winner !== -1 || ledger.length !== before.length) {
      user.ledger = ledger.length > 0 ? { value: ledger, expiresAt: this.clock() + plan.ledgerTtlMs } : undefined
    }
    const outcome: StoreOutcome = { decisionId: plan.decisionId, winner, verdicts, echo: plan.echo, replayed: false, consentClear }
    if (plan.requestId !== '') {
      const map = replies ?? new Map<string, Reply>()
      map.set(plan.requestId, { outcome: JSON.stringify(outcome), expiresAt: plan.now + plan.idempotencyTtlMs, nonce: plan.nonce })
      user.replies = { value: map, expiresAt: this.clock() + plan.idempotencyTtlMs }
      pruneReplies(map, plan.now)
    }
    return outcome
  }

  async readPreferences (userTag: string): Promise<Record<string, string>> {
    return { ...this.live(this.users.get(userTag)?.prefs) }
  }

  async writePreferences (userTag: string, hash: Record<string, string>, ttlMs: number, history?: HistoryAppend): Promise<void> {
    const user = this.user(userTag)
    user.prefs = isEmpty(hash) ? undefined : { value: { ...hash }, expiresAt: this.clock() + ttlMs }
    if (history !== undefined && history.entries.length > 0) {
      // LPUSH of several values puts the last one first; LTRIM keeps the `keep` newest.
      const list = [...history.entries].reverse().concat(this.live(user.history) ?? []).slice(0, history.keep)
      user.history = { value: list, expiresAt: this.clock() + history.ttlMs }
    }
  }

  async readHistory (userTag: string): Promise<string[]> {
    return [...this.live(this.users.get(userTag)?.history) ?? []]
  }

  async readLedger (userTag: string): Promise<Impression[]> {
    return [...this.live(this.users.get(userTag)?.ledger) ?? []]
  }

  async applyEvents (userTag: string, batch: EventBatch): Promise<AppliedEvents> {
    const user = this.user(userTag)
    const result = applyEvents({
      ledger: this.live(user.ledger) ?? [],
      fatigue: this.live(user.fatigue) ?? {},
      log: this.live(user.log) ?? []
    }, batch)
    const now = this.clock()
    if (result.ledgerChanged && user.ledger !== undefined) {
      user.ledger = result.ledger.length > 0 ? { value: result.ledger, expiresAt: user.ledger.expiresAt } : undefined
    }
    if (result.fatigueChanged) {
      user.fatigue = isEmpty(result.fatigue) ? undefined : { value: result.fatigue, expiresAt: now + batch.fatigueTtlMs }
    }
    if (result.logChanged) {
      user.log = result.log.length > 0 ? { value: result.log, expiresAt: now + batch.logTtlMs } : undefined
    }
    return { outcomes: result.outcomes, dayShows: result.dayShows }
  }

  async readUser (userTag: string): Promise<StoredUser> {
    const user = this.users.get(userTag)
    const replies: Record<string, number> = {}
    for (const [id, r] of this.live(user?.replies) ?? []) replies[id] = r.expiresAt
    return {
      ledger: (this.live(user?.ledger) ?? []).map((i) => ({ ...i })),
      preferences: { ...this.live(user?.prefs) },
      fatigue: { ...this.live(user?.fatigue) },
      eventLog: (this.live(user?.log) ?? []).map((e) => ({ ...e })),
      replies,
      history: [...this.live(user?.history) ?? []]
    }
  }

  async erase (userTag: string): Promise<number> {
    const user = this.users.get(userTag)
    if (user === undefined) return 0
    this.users.delete(userTag)
    const keys: (Expiring<unknown> | undefined)[] = [user.ledger, user.prefs, user.fatigue, user.log, user.replies, user.history]
    return keys.filter((e) => this.live(e) !== undefined).length
  }

  async waitUntilReady (): Promise<boolean> {
    return true
  }

  async ping (): Promise<void> {}

  async close (): Promise<void> {
    clearInterval(this.sweeper)
  }

  private user (userTag: string): UserEntries {
    let user = this.users.get(userTag)
    if (user === undefined) {
      user = {}
      this.users.set(userTag, user)
    }
    return user
  }

  private live<T> (entry: Expiring<T> | undefined): T | undefined {
    return entry !== undefined && entry.expiresAt > this.clock() ? entry.value : undefined
  }

  private sweep (): void {
    for (const [tag, user] of this.users) {
      if (this.live(user.replies) === undefined) delete user.replies
      if (this.live(user.ledger) === undefined) delete user.ledger
      if (this.live(user.prefs) === undefined) delete user.prefs
      if (this.live(user.fatigue) === undefined) delete user.fatigue
      if (this.live(user.log) === undefined) delete user.log
      if (this.live(user.history) === undefined) delete user.history
      if (user.ledger === undefined && user.prefs === undefined && user.fatigue === undefined &&
        user.log === undefined && user.replies === undefined && user.history === undefined) this.users.delete(tag)
    }
  }
}
