import { evaluate } from '../decision/evaluate.js'
import type { DecisionPlan, StoreOutcome } from '../decision/types.js'
import type { UserState } from '../decision/user-state.js'
import type { Store } from './store.js'

interface Expiring<T> { value: T, expiresAt: number }

/**
 * The embedded store: one process only, nothing survives a restart. It runs the
 * same pure rules as the Lua script, and keeps TTLs like Redis does.
 */
export class MemoryStore implements Store {
  readonly kind = 'memory' as const
  private readonly users = new Map<string, Expiring<UserState>>()
  private readonly replies = new Map<string, Expiring<string>>()
  private readonly sweeper: NodeJS.Timeout

  constructor (private readonly clock: () => number = Date.now) {
    this.sweeper = setInterval(() => this.sweep(), 60_000)
    this.sweeper.unref()
  }

  async decide (userTag: string, plan: DecisionPlan): Promise<StoreOutcome> {
    const replyKey = userTag + '\0' + plan.requestId
    if (plan.requestId !== '') {
      const prior = this.live(this.replies.get(replyKey))
      if (prior !== undefined) return { ...JSON.parse(prior) as StoreOutcome, replayed: true }
    }
    const state = this.live(this.users.get(userTag)) ?? { ledger: [], prefs: null, fatigue: null }
    const { winner, verdicts, ledger } = evaluate(plan, state)
    this.users.set(userTag, { value: { ...state, ledger }, expiresAt: this.clock() + plan.ledgerTtlMs })
    const outcome: StoreOutcome = { decisionId: plan.decisionId, winner, verdicts, echo: plan.echo, replayed: false }
    if (plan.requestId !== '') {
      this.replies.set(replyKey, { value: JSON.stringify(outcome), expiresAt: this.clock() + plan.idempotencyTtlMs })
    }
    return outcome
  }

  async waitUntilReady (): Promise<boolean> {
    return true
  }

  async ping (): Promise<void> {}

  async close (): Promise<void> {
    clearInterval(this.sweeper)
  }

  private live<T> (entry: Expiring<T> | undefined): T | undefined {
    return entry !== undefined && entry.expiresAt > this.clock() ? entry.value : undefined
  }

  private sweep (): void {
    const now = this.clock()
    for (const map of [this.users, this.replies] as Map<string, Expiring<unknown>>[]) {
      for (const [key, entry] of map) if (entry.expiresAt <= now) map.delete(key)
    }
  }
}
