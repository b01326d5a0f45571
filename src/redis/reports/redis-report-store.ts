import { HLL_RELATIVE_ERROR } from '../../rules/reports/holdout.js'
import { KEY_PREFIX } from '../keys.js'
import { defineScripts, loadScript } from '../scripts.js'
import { waitForReady, type RedisClient } from '../connection.js'
import type { CountBatch } from '../../rules/reports/batch.js'
import { DAY_MS } from '../../rules/time.js'
import { FlushNotSentError, type ReportStore, type StoredDay } from '../../store/report-store.js'

/** `-- keys: varies`: each call passes its key count first. */
const SCRIPTS = { pgAggFlush: loadScript(new URL('./agg-flush.lua', import.meta.url)) }

/** A flush id is remembered this long: far longer than any retry of it. */
const MARKER_LIFE_MS = 7 * DAY_MS

const CONNECT_WAIT_MS = 1000

interface FlushClient {
  pgAggFlush (...args: (string | number)[]): Promise<0 | 1>
}

export interface RedisReportStoreOptions {
  keyPrefix?: string
  retentionDays: number
}

const toCounts = (raw: Record<string, string>): Record<string, number> =>
  Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, Number(v)]))

/**
 * Report counts in Redis, all keys under the hash tag {agg}. It owns its client (longer
 * deadlines than the decision path, which must never wait on a report).
 */
export class RedisReportStore implements ReportStore {
  readonly userCountError = HLL_RELATIVE_ERROR
  private readonly base: string

  constructor (private readonly client: RedisClient, private readonly options: RedisReportStoreOptions) {
    this.base = (options.keyPrefix ?? KEY_PREFIX) + '{agg}:'
    defineScripts(client, SCRIPTS)
  }

  async apply (batch: CountBatch, flushId: string): Promise<void> {
    if (!await this.connected()) throw new FlushNotSentError(`report store not connected (${this.client.status})`)
    const hashKeys = [...batch.hashes.keys()]
    const userKeys = [...batch.users.keys()]
    const body = {
      h: hashKeys.map((k) => [...(batch.hashes.get(k) ?? [])].flat()),
      u: userKeys.map((k) => [...(batch.users.get(k) ?? [])])
    }
    const keys = [this.base + 'f:' + flushId, ...hashKeys.map((k) => this.base + k), ...userKeys.map((k) => this.base + k)]
    try {
      await (this.client as unknown as FlushClient).pgAggFlush(keys.length, ...keys, hashKeys.length,
        this.options.retentionDays * DAY_MS, MARKER_LIFE_MS, JSON.stringify(body))
    } catch (err) {
      // ioredis refuses at once, before writing anything, when the offline queue is off and the stream is down.
      if (/enableOfflineQueue|Connection is closed/.test((err as Error).message)) throw new FlushNotSentError((err as Error).message)
      throw err
    }
  }

  async read (days: string[]): Promise<StoredDay[]> {
    await this.connected()
    const pipeline = this.client.pipeline()
    for (const day of days) {
      pipeline.hgetall(this.base + 'c:' + day)
      pipeline.hgetall(this.base + 'd:' + day)
      pipeline.hgetall(this.base + 'e:' + day)
      pipeline.pfcount(this.base + `u:${day}:treated`)
      pipeline.pfcount(this.base + `u:${day}:holdout`)
    }
    const replies = await pipeline.exec() ?? []
    const value = (i: number): unknown => {
      const [err, v] = replies[i] ?? [new Error('no reply'), null]
      if (err !== null) throw err
      return v
    }
    return days.map((day, d) => ({
      day,
      candidates: toCounts(value(d * 5) as Record<string, string>),
      decisions: toCounts(value(d * 5 + 1) as Record<string, string>),
      events: toCounts(value(d * 5 + 2) as Record<string, string>),
      users: { treated: value(d * 5 + 3) as number, holdout: value(d * 5 + 4) as number }
    }))
  }

  /** Waits a little for a connection still being made (a fresh start); false when none came. */
  private async connected (): Promise<boolean> {
    return await waitForReady(this.client, CONNECT_WAIT_MS)
  }

  async close (): Promise<void> {
    this.client.disconnect()
  }
}
