import { Cluster, type Redis } from 'ioredis'
import type { DecisionPlan, Reason, StoreOutcome, Verdict } from '../decision/types.js'
import { CircuitBreaker, type BreakerState } from './circuit-breaker.js'
import type { EventBatch, EventOutcome } from '../events/types.js'
import { luaScript } from './lua-scripts.js'
import { encodePlan } from './plan-wire.js'
import { KEY_PREFIX, knownUserKeys, userKeyPattern, userKeys } from './keys.js'
import { waitForReady, type RedisClient } from './redis-client.js'
import { StoreUnavailableError, type Store } from './store.js'

const DECIDE_LUA = luaScript('decide.lua', { ledgerLib: true })
const EVENTS_LUA = luaScript('events.lua', { ledgerLib: true })
const ERASE_LUA = luaScript('erase.lua')
const ERASE_SCAN_COUNT = 1000

type LuaVerdict = [Reason, string, number, 0 | 1]
interface LuaOutcome { d: string, w: number, v: LuaVerdict[], e: string }

interface ScriptedClient {
  pgDecide (k1: string, k2: string, k3: string, k4: string, plan: string): Promise<[0 | 1, string]>
  pgEvents (ledger: string, fatigue: string, log: string, batch: string): Promise<EventOutcome[]>
  pgErase (ledger: string, prefs: string, fatigue: string, log: string): Promise<number>
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
    client.defineCommand('pgEvents', { numberOfKeys: 3, lua: EVENTS_LUA })
    client.defineCommand('pgErase', { numberOfKeys: 4, lua: ERASE_LUA })
    let lastReport = 0
    client.on('error', (err: Error) => {
      if (Date.now() - lastReport < 1000) return
      lastReport = Date.now()
      options.onConnectionError?.(err)
    })
  }

  async waitUntilReady (timeoutMs: number): Promise<boolean> {
    return await waitForReady(this.client, timeoutMs)
  }

  async decide (userTag: string, plan: DecisionPlan): Promise<StoreOutcome> {
    const [ledger, prefs, fatigue, reply] = userKeys(this.prefix, userTag, plan.requestId)
    const [replayed, json] = await this.call('decide', () =>
      (this.client as unknown as ScriptedClient).pgDecide(ledger, prefs, fatigue, reply, encodePlan(plan)))
    const o = JSON.parse(json) as LuaOutcome
    return { decisionId: o.d, winner: o.w, verdicts: o.v.map(toVerdict), echo: o.e, replayed: replayed === 1 }
  }

  async readPreferences (userTag: string): Promise<Record<string, string>> {
    const { prefs } = knownUserKeys(this.prefix, userTag)
    return await this.call('read_preferences', () => this.client.hgetall(prefs))
  }

  async writePreferences (userTag: string, hash: Record<string, string>, ttlMs: number): Promise<void> {
    const { prefs } = knownUserKeys(this.prefix, userTag)
    await this.call('write_preferences', async () => {
      const tx = this.client.multi().del(prefs)
      if (Object.keys(hash).length > 0) tx.hset(prefs, hash).pexpire(prefs, ttlMs)
      const replies = await tx.exec()
      const failed = replies?.find(([err]) => err !== null)
      if (replies === null || failed !== undefined) throw failed?.[0] ?? new Error('transaction aborted')
    })
  }

  async applyEvents (userTag: string, batch: EventBatch): Promise<EventOutcome[]> {
    const k = knownUserKeys(this.prefix, userTag)
    return await this.call('events', () => this.scripts.pgEvents(k.ledger, k.fatigue, k.events, JSON.stringify(batch)))
  }

  /**
   * The known keys go in one script, so consent and caps vanish at once; a SCAN of the
   * user's tag on the node that owns its slot then finds what has no known name.
   */
  async erase (userTag: string): Promise<number> {
    const k = knownUserKeys(this.prefix, userTag)
    let deleted = await this.call('erase', () => this.scripts.pgErase(k.ledger, k.prefs, k.fatigue, k.events))
    const node = await this.nodeOwning(k.ledger)
    const pattern = userKeyPattern(this.prefix, userTag)
    let cursor = '0'
    do {
      const [next, keys] = await this.call('erase_scan', () => node.scan(cursor, 'MATCH', pattern, 'COUNT', ERASE_SCAN_COUNT))
      if (keys.length > 0) deleted += await this.call('erase', () => this.client.del(...keys))
      cursor = next
    } while (cursor !== '0')
    return deleted
  }

  async ping (): Promise<void> {
    await this.call('ping', () => this.client.ping())
  }

  async close (): Promise<void> {
    this.client.disconnect()
  }

  private get scripts (): ScriptedClient {
    return this.client as unknown as ScriptedClient
  }

  /** The connection to SCAN for a key's slot: the client itself, or in a cluster the master owning the slot. */
  private async nodeOwning (key: string): Promise<Redis> {
    const client = this.client
    if (!(client instanceof Cluster)) return client
    const slot = await this.call('keyslot', () => client.cluster('KEYSLOT', key)) as number
    const owner = client.slots[slot]?.[0]
    const node = client.nodes('master').find((n) => `${n.options.host}:${n.options.port}` === owner)
    if (node === undefined) throw new StoreUnavailableError(`no master known for slot ${slot}`)
    return node
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
