import { randomUUID } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import { userCount, type CountBatch } from '../../rules/reports/batch.js'
import type { ReportCounter } from './counter.js'
import { FlushNotSentError, type ReportStore } from '../../store/report-store.js'

/** A batch waiting to be sent; `maybeApplied`: an earlier send may have reached the store, so only its id may resend it. */
interface Pending { id: string, batch: CountBatch, maybeApplied: boolean }

export interface FlusherOptions {
  everyMs: number
  logger: FastifyBaseLogger
  /** Runs after every flush that reached the store (campaign health). */
  afterFlush?: () => Promise<void>
}

/**
 * Moves the counter's counts to the store. A batch whose send may have applied is kept with
 * its id and resent first (the store applies an id once); one that certainly was not sent
 * goes back into the counter.
 */
export class ReportFlusher {
  private pending: Pending[] = []
  private timer: NodeJS.Timeout | null = null
  private running: Promise<boolean> = Promise.resolve(true)
  /** A flush waiting for the one running: later callers share it, so readers during an outage do not queue one each. */
  private queued: Promise<boolean> | null = null

  constructor (private readonly counter: ReportCounter, private readonly store: ReportStore, private readonly opts: FlusherOptions) {}

  start (): void {
    this.timer = setInterval(() => { this.flush().catch(() => {}) }, this.opts.everyMs)
    this.timer.unref()
  }

  /** Flushes now (after any flush already running); true when nothing is left unsent. */
  async flush (): Promise<boolean> {
    if (this.queued !== null) return await this.queued
    const next = this.running.then(async () => {
      this.queued = null
      return await this.flushOnce()
    })
    this.queued = next
    this.running = next
    return await next
  }

  /** User pseudonyms held in batches sent but not known applied (at most one such batch: see flushOnce). */
  pendingUsers (): number {
    return this.pending.reduce((n, p) => n + userCount(p.batch), 0)
  }

  /** Stops the timer and flushes until everything is sent or three attempts failed. */
  async stop (): Promise<boolean> {
    if (this.timer !== null) clearInterval(this.timer)
    for (let attempt = 0; attempt < 3; attempt++) {
      if (await this.flush()) return true
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
    this.opts.logger.error({ batches: this.pending.length }, 'report counts could not be flushed before shutdown')
    return false
  }

  private async flushOnce (): Promise<boolean> {
    const batch = this.counter.drain()
    if (batch !== null) this.pending.push({ id: randomUUID(), batch, maybeApplied: false })
    let sent = false
    while (this.pending.length > 0) {
      const next = this.pending[0] as Pending
      try {
        await this.store.apply(next.batch, next.id)
        this.pending.shift()
        sent = true
      } catch (err) {
        if (!(err instanceof FlushNotSentError)) next.maybeApplied = true
        this.restoreUnsent()
        return this.failed(err)
      }
    }
    if (sent && this.opts.afterFlush !== undefined) {
      await this.opts.afterFlush().catch((err: unknown) => this.opts.logger.warn({ err: { message: (err as Error).message } }, 'after-flush step failed'))
    }
    return true
  }

  /** Batches never possibly applied go back into the counter, so only ambiguous ones wait with their id. */
  private restoreUnsent (): void {
    for (const p of this.pending) if (!p.maybeApplied) this.counter.restore(p.batch)
    this.pending = this.pending.filter((p) => p.maybeApplied)
  }

  private failed (err: unknown): false {
    this.opts.logger.warn({ err: { message: (err as Error).message }, batches: this.pending.length }, 'report flush failed: kept for the next one')
    return false
  }
}
