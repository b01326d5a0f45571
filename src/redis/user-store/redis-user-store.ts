import type { Redis } from 'ioredis'
import type { DecisionPlan, Reason, StoreOutcome, Verdict } from '../../rules/decide/types.js'
import type { AppliedEvents, EventBatch, EventOutcome } from '../../rules/events/types.js'
import { CircuitBreaker, type BreakerState } from '../circuit-breaker.js'
import { DEFAULT_STORE_TIMEOUT_MS, SCRIPT_DEADLINE_SHARE, withDeadline } from '../deadline.js'
import { KEY_PREFIX, userKeys } from '../keys.js'
import { defineScripts } from '../scripts.js'
import { USER_SCRIPTS } from './scripts.js'
import { decodeEventLog, decodeLedger, decodeReplyExpiry } from './ledger-codec.js'
import { encodePlan } from './plan-wire.js'
import { localMs, RedisClock } from '../redis-clock.js'
import { waitForReady, type RedisClient } from '../connection.js'
import { isStoreFault, type StoreCallResult } from '../store-faults.js'
import { StoreUnavailableError, type HistoryAppend, type Store, type StoredUser } from '../../store/user-store.js'
import type { Impression } from '../../rules/decide/user-state.js'

const CLOCK_SAMPLE_EVERY_MS = 10_000
/** Until a first clock sample is kept, decisions ask for one at most this often. */
const CLOCK_RETRY_MS = 200

type LuaVerdict = [Reason, string, number, 0 | 1, (Reason | '')?, string?]
interface LuaOutcome { d: string, w: number, v: LuaVerdict[], e: string, c?: number }
/** decide.lua's status besides 0 (decided now): replayed, or late (nothing recorded). */
const REPLAYED = 1
const LATE = 2

/** The commands USER_SCRIPTS defines (names and key counts from each .lua file's header). */
interface ScriptedClient {
  pgDecide (ledger: string, prefs: string, fatigue: string, replies: string, plan: string): Promise<[0 | 1 | 2, string]>
  pgEvents (ledger: string, fatigue: string, log: string, batch: string): Promise<[EventOutcome[], number[]]>
  pgErase (ledger: string, prefs: string, fatigue: string, log: string, replies: string, history: string): Promise<number>
}

/** A pipeline with the decision script on it (defineCommand adds it to pipelines too). */
interface ScriptedPipeline {
  pgDecide (ledger: string, prefs: string, fatigue: string, replies: string, plan: string): { wait (replicas: number, timeoutMs: number): { exec (): Promise<[Error | null, unknown][] | null> } }
}

export interface RedisStoreOptions {
  keyPrefix?: string
  /** How long a call may take before it is answered by the fallback (ms). */
  timeoutMs?: number
  /** Consecutive failures that open the circuit, and how long it stays open (ms). */
  breakerThreshold?: number
  breakerOpenMs?: number
  onBreakerChange?: (state: BreakerState) => void
  /** Round-trip time of every store call, and how it ended. */
  onCall?: (op: string, seconds: number, result: StoreCallResult) => void
  /** Connection errors, at most one a second (ioredis reports every reconnect attempt). */
  onConnectionError?: (err: Error) => void
  /** Error replies that are not store faults (script errors), at most one a second; each is counted by onCall. */
  onScriptError?: (op: string, err: Error) => void
  /**
   * Strict replication: each decision script is followed, in the same pipeline (one round trip),
   * by `WAIT replicas timeoutMs`; a decision its replicas did not acknowledge in time is answered
   * by the fallback, so a failover cannot lose a show the client was told about.
   */
  waitReplicas?: { replicas: number, timeoutMs: number }
}

function toVerdict ([reason, capId, retryMs, unenforced, shadowReason, shadowCapId]: LuaVerdict): Verdict {
  const v: Verdict = { reason }
  if (capId !== '') v.capId = capId
  if (retryMs >= 0) v.retryMs = retryMs
  if (unenforced === 1) v.unenforced = true
  if (shadowReason !== undefined && shadowReason !== '') v.shadow = shadowCapId === undefined || shadowCapId === '' ? { reason: shadowReason } : { reason: shadowReason, capId: shadowCapId }
  return v
}

/** At most one call a second; the rest are dropped (ioredis and a broken script can both repeat forever). */
function oncePerSecond<A extends unknown[]> (fn: ((...args: A) => void) | undefined): (...args: A) => void {
  let last = 0
  return (...args) => {
    if (fn === undefined || Date.now() - last < 1000) return
    last = Date.now()
    fn(...args)
  }
}

export class RedisStore implements Store {
  readonly kind
  readonly breaker: CircuitBreaker
  readonly clock: RedisClock
  private readonly prefix: string
  private readonly timeoutMs: number
  private readonly sampler: NodeJS.Timeout
  private readonly scriptError: (op: string, err: Error) => void
  private sampling = false
  private lastSampleAt = 0

  constructor (private readonly client: RedisClient, private readonly options: RedisStoreOptions = {}) {
    this.kind = 'nodes' in client && typeof client.nodes === 'function' ? 'redis-cluster' as const : 'redis' as const
    this.prefix = options.keyPrefix ?? KEY_PREFIX
    this.timeoutMs = options.timeoutMs ?? DEFAULT_STORE_TIMEOUT_MS
    // A kept clock sample is off by at most its round trip: a tenth of the timeout, half the margin the client keeps after the script's deadline.
    this.clock = new RedisClock(Math.max(2, this.timeoutMs / 10))
    this.breaker = new CircuitBreaker(options.breakerThreshold ?? 5, options.breakerOpenMs ?? 1000, options.onBreakerChange)
    this.scriptError = oncePerSecond(options.onScriptError)
    defineScripts(client, USER_SCRIPTS)
    const connectionError = oncePerSecond(options.onConnectionError)
    client.on('error', (err: Error) => connectionError(err))
    // Redis's clock: at every (re)connection, on each readiness ping, and every few seconds.
    client.on('ready', () => { this.warmUp().catch(() => {}) })
    if (client.status === 'ready') this.warmUp().catch(() => {})
    this.sampler = setInterval(() => { this.sampleClock() }, CLOCK_SAMPLE_EVERY_MS)
    this.sampler.unref()
  }

  /** Ready, and warmed up within the same time (see warmUp). */
  async waitUntilReady (timeoutMs: number): Promise<boolean> {
    const started = performance.now()
    if (!await waitForReady(this.client, timeoutMs)) return false
    const left = Math.max(0, timeoutMs - (performance.now() - started))
    await withDeadline(this.warmUp(), left).catch(() => {})
    return true
  }

  /**
   * Samples Redis's clock on every master. In a Redis Cluster this also opens the connection to
   * each master (it opens on its first command), so the first decisions do not spend their
   * deadline connecting.
   */
  private async warmUp (): Promise<void> {
    await this.clock.sample(this.masters())
  }

  /**
   * The script gets a deadline in Redis's clock, a little before the client stops waiting: a
   * script that starts later records nothing and says so, and the decision follows onStoreFailure.
   */
  async decide (userTag: string, plan: DecisionPlan): Promise<StoreOutcome> {
    const k = userKeys(this.prefix, userTag)
    const deadline = this.clock.toRedis(localMs() + this.timeoutMs * SCRIPT_DEADLINE_SHARE)
    if (deadline === 0 && performance.now() - this.lastSampleAt > CLOCK_RETRY_MS) this.sampleClock()
    const wait = this.options.waitReplicas
    const [status, json, acked] = await this.call('decide',
      async () => wait === undefined
        ? await this.scripts.pgDecide(k.ledger, k.prefs, k.fatigue, k.replies, encodePlan(plan, deadline))
        : await this.decideAndWait(k, encodePlan(plan, deadline), wait),
      ([s]) => s === LATE)
    if (status === LATE) throw new StoreUnavailableError('store decide: the script started after its deadline and recorded nothing')
    if (wait !== undefined && (acked ?? 0) < wait.replicas) {
      throw new StoreUnavailableError(`store decide: ${acked ?? 0} of ${wait.replicas} replicas acknowledged within ${wait.timeoutMs} ms`)
    }
    const o = JSON.parse(json) as LuaOutcome
    return { decisionId: o.d, winner: o.w, verdicts: o.v.map(toVerdict), echo: o.e, replayed: status === REPLAYED, consentClear: o.c === 1 }
  }

  /** The decision script and WAIT in one pipeline: one round trip; WAIT's reply is the replicas that acknowledged. */
  private async decideAndWait (k: ReturnType<typeof userKeys>, plan: string, wait: { replicas: number, timeoutMs: number }): Promise<[0 | 1 | 2, string, number]> {
    const replies = await (this.client.pipeline() as unknown as ScriptedPipeline).pgDecide(k.ledger, k.prefs, k.fatigue, k.replies, plan)
      .wait(wait.replicas, wait.timeoutMs).exec()
    const failed = replies?.find(([err]) => err !== null)
    if (replies === null || failed !== undefined) throw failed?.[0] ?? new Error('pipeline aborted')
    const [status, json] = replies[0]?.[1] as [0 | 1 | 2, string]
    return [status, json, replies[1]?.[1] as number]
  }

  async readPreferences (userTag: string): Promise<Record<string, string>> {
    const { prefs } = userKeys(this.prefix, userTag)
    return await this.call('read_preferences', () => this.client.hgetall(prefs))
  }

  /** One MULTI on the user's hash tag: the preferences and their history change together or not at all. */
  async writePreferences (userTag: string, hash: Record<string, string>, ttlMs: number, history?: HistoryAppend): Promise<void> {
    const { prefs, history: historyKey } = userKeys(this.prefix, userTag)
    await this.call('write_preferences', async () => {
      const tx = this.client.multi().del(prefs)
      if (Object.keys(hash).length > 0) tx.hset(prefs, hash).pexpire(prefs, ttlMs)
      if (history !== undefined && history.entries.length > 0) {
        tx.lpush(historyKey, ...history.entries).ltrim(historyKey, 0, history.keep - 1).pexpire(historyKey, history.ttlMs)
      }
      const replies = await tx.exec()
      const failed = replies?.find(([err]) => err !== null)
      if (replies === null || failed !== undefined) throw failed?.[0] ?? new Error('transaction aborted')
    })
  }

  async readHistory (userTag: string): Promise<string[]> {
    const { history } = userKeys(this.prefix, userTag)
    return await this.call('read_history', () => this.client.lrange(history, 0, -1))
  }

  async readLedger (userTag: string): Promise<Impression[]> {
    const { ledger } = userKeys(this.prefix, userTag)
    const raw = await this.call('read_ledger', () => this.client.get(ledger))
    return raw === null ? [] : decodeLedger(raw)
  }

  async applyEvents (userTag: string, batch: EventBatch): Promise<AppliedEvents> {
    const k = userKeys(this.prefix, userTag)
    const [outcomes, dayShows] = await this.call('events', () => this.scripts.pgEvents(k.ledger, k.fatigue, k.events, JSON.stringify(batch)))
    return { outcomes, dayShows }
  }

  /** Every key of the user in one pipeline (one slot: the keys share the user's hash tag). */
  async readUser (userTag: string): Promise<StoredUser> {
    const k = userKeys(this.prefix, userTag)
    const replies = await this.call('read_user', async () => {
      const out = await this.client.pipeline().get(k.ledger).hgetall(k.prefs).hgetall(k.fatigue).get(k.events).hgetall(k.replies).lrange(k.history, 0, -1).exec()
      const failed = out?.find(([err]) => err !== null)
      if (out === null || failed !== undefined) throw failed?.[0] ?? new Error('pipeline aborted')
      return out.map(([, value]) => value)
    })
    const [ledger, preferences, fatigue, log, idempotency, history] = replies as [string | null, Record<string, string>, Record<string, string>, string | null, Record<string, string>, string[]]
    return {
      ledger: decodeLedger(ledger ?? ''),
      preferences,
      fatigue,
      eventLog: decodeEventLog(log ?? ''),
      replies: Object.fromEntries(Object.entries(idempotency).map(([id, v]) => [id, decodeReplyExpiry(v)])),
      history
    }
  }

  /** Every key of the user by name, in one script: as many commands for a user of many keys as of none. */
  async erase (userTag: string): Promise<number> {
    const k = userKeys(this.prefix, userTag)
    return await this.call('erase', () => this.scripts.pgErase(k.ledger, k.prefs, k.fatigue, k.events, k.replies, k.history))
  }

  async ping (): Promise<void> {
    await this.call('ping', () => this.client.ping())
    this.sampleClock()
  }

  async close (): Promise<void> {
    clearInterval(this.sampler)
    this.client.disconnect()
  }

  private get scripts (): ScriptedClient {
    return this.client as unknown as ScriptedClient
  }

  /** Starts one clock sample of every master unless one is running; failures are ignored (the calls judge the store's health). */
  private sampleClock (): void {
    if (this.sampling) return
    this.sampling = true
    this.lastSampleAt = performance.now()
    this.clock.sample(this.masters()).catch(() => {}).finally(() => { this.sampling = false })
  }

  private masters (): Redis[] {
    const client = this.client
    return 'nodes' in client && typeof client.nodes === 'function' ? client.nodes('master') : [client as Redis]
  }

  /**
   * One store call under the deadline and the circuit breaker; every failure becomes
   * StoreUnavailableError. Only store faults count against the breaker: an error reply or a
   * late script proves the store answered.
   */
  private async call<T> (op: string, fn: () => Promise<T>, isLate: (result: T) => boolean = () => false): Promise<T> {
    if (!this.breaker.allows()) throw new StoreUnavailableError('circuit open: the store is failing')
    const started = performance.now()
    const seconds = (): number => (performance.now() - started) / 1000
    try {
      const result = await withDeadline(fn(), this.timeoutMs)
      this.breaker.succeeded()
      this.options.onCall?.(op, seconds(), isLate(result) ? 'late' : 'ok')
      return result
    } catch (err) {
      if (isStoreFault(err)) {
        this.breaker.failed()
        this.options.onCall?.(op, seconds(), 'error')
        throw new StoreUnavailableError(`store ${op} failed: ${(err as Error).message}`, { cause: err })
      }
      this.breaker.succeeded()
      this.options.onCall?.(op, seconds(), 'script_error')
      this.scriptError(op, err as Error)
      throw new StoreUnavailableError(`store ${op} refused the call: ${(err as Error).message}`, { cause: err })
    }
  }
}
