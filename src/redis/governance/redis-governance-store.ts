import { UnavailableError } from '../../errors.js'
import { KEY_PREFIX } from '../keys.js'
import { defineScripts, loadScript } from '../scripts.js'
import { createRedisClient, type RedisClient, type RedisTarget } from '../connection.js'
import {
  AUDIT_CAP, HISTORY_CAP, POLICY_FIELD,
  type AuditEntry, type GovCommit, type GovernanceStore, type GovSnapshot, type GovTable, type Page, type PolicyHistoryEntry
} from '../../store/governance-store.js'

const SCRIPTS = { pgGovCommit: loadScript(new URL('./gov-commit.lua', import.meta.url)) }
/** Admin reads (a snapshot of every campaign) may be large: a deadline for admin work, not the decision path's. */
const GOVERNANCE_TIMEOUT_MS = 2000

interface ScriptedClient { pgGovCommit (...args: string[]): Promise<number> }

/** Key names; one hash tag, so the commit script may touch them all in one Redis Cluster slot. */
function governanceKeys (prefix: string) {
  const base = `${prefix}{gov}:`
  return {
    revision: base + 'rev',
    policy: base + 'policy',
    campaigns: base + 'campaigns',
    penalties: base + 'penalties',
    audit: base + 'audit',
    history: base + 'history',
    channel: base + 'changed'
  }
}

const TABLE_KEY_INDEX: Record<GovTable, number> = { policy: 2, campaigns: 3, penalties: 4 }

async function page<T> (client: RedisClient, key: string, offset: number, limit: number): Promise<Page<T>> {
  // One more than asked tells whether another page follows.
  const raw = await client.lrange(key, offset, offset + limit)
  const items = raw.slice(0, limit).map((s) => JSON.parse(s) as T)
  return { items, nextOffset: raw.length > limit ? offset + limit : null }
}

export interface RedisGovernanceOptions {
  keyPrefix?: string
  onConnectionError?: (err: Error) => void
}

export class RedisGovernanceStore implements GovernanceStore {
  readonly kind = 'redis' as const
  private readonly client: RedisClient
  private subscriber: RedisClient | null = null
  private readonly keys

  constructor (target: RedisTarget, private readonly options: RedisGovernanceOptions = {}) {
    this.keys = governanceKeys(options.keyPrefix ?? KEY_PREFIX)
    // Its own deadline: the target's is the decision path's.
    this.client = createRedisClient({ ...target, commandTimeoutMs: GOVERNANCE_TIMEOUT_MS }, 'governance')
    defineScripts(this.client, SCRIPTS)
    this.reportErrors(this.client)
  }

  async read (table: GovTable, id: string): Promise<string | null> {
    return await this.call(() => this.client.hget(this.keys[table], id))
  }

  async commit (change: GovCommit): Promise<boolean> {
    const k = this.keys
    const argv = JSON.stringify({
      w: change.writes.map((w) => ({ t: TABLE_KEY_INDEX[w.table], f: w.id, x: w.expect === undefined ? 0 : 1, e: w.expect ?? '', v: w.value })),
      a: change.audit.map((a) => JSON.stringify(a)),
      h: change.history === undefined ? '' : JSON.stringify(change.history),
      ac: AUDIT_CAP,
      hc: HISTORY_CAP,
      c: k.channel,
      xr: change.expectRevision ?? -1,
      r: change.replace === true ? 1 : 0,
      m: change.revisionAtLeast ?? 0
    })
    const revision = await this.call(() => (this.client as unknown as ScriptedClient)
      .pgGovCommit(k.revision, k.policy, k.campaigns, k.penalties, k.audit, k.history, argv))
    return revision >= 0
  }

  async snapshot (): Promise<GovSnapshot> {
    const k = this.keys
    const replies = await this.call(() => this.client.multi()
      .get(k.revision).hget(k.policy, POLICY_FIELD).hgetall(k.campaigns).hgetall(k.penalties).exec())
    if (replies === null) throw new Error('governance snapshot aborted')
    const failed = replies.find(([err]) => err !== null)?.[0]
    if (failed !== undefined && failed !== null) throw failed
    const [revision, policy, campaigns, penalties] = replies.map(([, value]) => value) as
      [string | null, string | null, Record<string, string>, Record<string, string>]
    return {
      revision: Number(revision ?? 0),
      policy,
      campaigns: new Map(Object.entries(campaigns)),
      penalties: new Map(Object.entries(penalties))
    }
  }

  async revision (): Promise<number> {
    return Number(await this.call(() => this.client.get(this.keys.revision)) ?? 0)
  }

  async audit (offset: number, limit: number): Promise<Page<AuditEntry>> {
    return await this.call(() => page<AuditEntry>(this.client, this.keys.audit, offset, limit))
  }

  async history (offset: number, limit: number): Promise<Page<PolicyHistoryEntry>> {
    return await this.call(() => page<PolicyHistoryEntry>(this.client, this.keys.history, offset, limit))
  }

  /** Subscribes on a connection of its own: a subscribed ioredis connection runs no other command. */
  async onChange (listener: (revision: number) => void): Promise<void> {
    if (this.subscriber === null) {
      this.subscriber = this.client.duplicate()
      this.reportErrors(this.subscriber)
    }
    const channel = this.keys.channel
    this.subscriber.on('message', (ch: string, message: string) => {
      if (ch === channel) listener(Number(message))
    })
    await this.subscriber.subscribe(channel)
  }

  async close (): Promise<void> {
    this.subscriber?.disconnect()
    this.client.disconnect()
  }

  /** A failed store call answers 503, never 500: the store is down, not the service broken. */
  private async call<T> (fn: () => Promise<T>): Promise<T> {
    try {
      return await fn()
    } catch (err) {
      throw new UnavailableError(`governance store: ${(err as Error).message}`)
    }
  }

  private reportErrors (client: RedisClient): void {
    let lastReport = 0
    client.on('error', (err: Error) => {
      if (Date.now() - lastReport < 1000) return
      lastReport = Date.now()
      this.options.onConnectionError?.(err)
    })
  }
}
