import { readFileSync } from 'node:fs'
import type { DecisionPlan, Reason, StoreOutcome, Verdict } from '../decision/types.js'
import { CircuitBreaker, type BreakerState } from './circuit-breaker.js'
import { KEY_PREFIX, userKeys } from './keys.js'
import type { RedisClient } from './redis-client.js'
import { StoreUnavailableError, type Store } from './store.js'

const DECIDE_LUA = readFileSync(new URL('./lua/decide.lua', import.meta.url), 'utf8')

type LuaVerdict = [Reason, string, number, 0 | 1]
interface LuaOutcome { d: string, w: number, v: LuaVerdict[], e: string }

interface ScriptedClient {
  pgDecide (k1: string, k2: string, k3: string, k4: string, plan: string): Promise<[0 | 1, string]>
}

export interface RedisStoreOptions {
  keyPrefix?: string
  /** Consecutive failures that open the circuit, and how long it stays open (ms). */
  breakerThreshold?: number
  breakerOpenMs?: number
  onBreakerChange?: (state: BreakerState) => void
  /** Round-trip time of every store call, and its outcome. */
  onCall?: (op: string, seconds: number, ok: boolean) => void
  /** Connection errors, at most one a second (ioredis reports every reconnect attempt). */
  onConnectionError?: (err: Error) => void
}

function toVerdict ([reason, capId, retryMs, unenforced]: LuaVerdict): Verdict {
  const v: Verdict = { reason }
  if (capId !== '') v.capId = capId
  if (retryMs >= 0) v.retryMs = retryMs
  if (unenforced === 1) v.unenforced = true
  return v
}

export class RedisStore implements Store {
  readonly kind
  readonly breaker: CircuitBreaker
  private readonly prefix: string

  constructor (private readonly client: RedisClient, private readonly options: RedisStoreOptions = {}) {
    this.kind = 'nodes' in client && typeof client.nodes === 'function' ? 'redis-cluster' as const : 'redis' as const
    this.prefix = options.keyPrefix ?? KEY_PREFIX
    this.breaker = new CircuitBreaker(options.breakerThreshold ?? 5, options.breakerOpenMs ?? 1000, options.onBreakerChange)
    client.defineCommand('pgDecide', { numberOfKeys: 4, lua: DECIDE_LUA })
    let lastReport = 0
    client.on('error', (err: Error) => {
      if (Date.now() - lastReport < 1000) return
      lastReport = Date.now()
      options.onConnectionError?.(err)
    })
  }

  async waitUntilReady (timeoutMs: number): Promise<boolean> {
    if (this.client.status === 'ready') return true
    return await new Promise((resolve) => {
      const done = (ok: boolean): void => {
        clearTimeout(timer)
        this.client.off('ready', onReady)
        resolve(ok)
      }
      const onReady = (): void => done(true)
      const timer = setTimeout(() => done(false), timeoutMs)
      this.client.once('ready', onReady)
    })
  }

  async decide (userTag: string, plan: DecisionPlan): Promise<StoreOutcome> {
    const [ledger, prefs, fatigue, reply] = userKeys(this.prefix, userTag, plan.requestId)
    const [replayed, json] = await this.call('decide', () =>
      (this.client as unknown as ScriptedClient).pgDecide(ledger, prefs, fatigue, reply, JSON.stringify(plan)))
    const o = JSON.parse(json) as LuaOutcome
    return { decisionId: o.d, winner: o.w, verdicts: o.v.map(toVerdict), echo: o.e, replayed: replayed === 1 }
  }

  async ping (): Promise<void> {
    await this.call('ping', () => this.client.ping())
  }

  async close (): Promise<void> {
    this.client.disconnect()
  }

  /** One store call under the circuit breaker; every failure becomes StoreUnavailableError. */
  private async call<T> (op: string, fn: () => Promise<T>): Promise<T> {
    if (!this.breaker.allows()) throw new StoreUnavailableError('circuit open: the store is failing')
    const started = performance.now()
    try {
      const result = await fn()
      this.breaker.succeeded()
      this.options.onCall?.(op, (performance.now() - started) / 1000, true)
      return result
    } catch (err) {
      this.breaker.failed()
      this.options.onCall?.(op, (performance.now() - started) / 1000, false)
      throw new StoreUnavailableError(`store ${op} failed: ${(err as Error).message}`, { cause: err })
    }
  }
}
