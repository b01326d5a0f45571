import { type Attempt, retryable } from './transport.js'
import type { Event, EventsResponse } from './types.js'

export interface EventQueueOptions {
  /** Sends one batch (POST /v1/events); `keepalive` while the page is going away. */
  send: (events: Event[], keepalive: boolean) => Promise<Attempt>
  maxBatch: number
  maxQueued: number
  /** Told of events dropped: refused by popguard (4xx) or over `maxQueued`. */
  onDrop: (events: Event[], why: 'refused' | 'overflow') => void
}

export interface FlushResult {
  sent: number
  accepted: number
  /** Kept for the next flush: popguard did not answer, or asked for them again. */
  requeued: number
}

/**
 * Events wait here and leave in batches. A batch popguard did not take (timeout, network,
 * 5xx, or `unavailable` for some events) goes back to the front of the queue: popguard counts
 * an event sent twice once, so sending again is safe.
 */
export class EventQueue {
  private queue: Event[] = []
  private running: Promise<FlushResult> | null = null

  constructor (private readonly opts: EventQueueOptions) {}

  get size (): number { return this.queue.length }

  push (event: Event): void {
    this.queue.push(event)
    if (this.queue.length > this.opts.maxQueued) this.opts.onDrop(this.queue.splice(0, this.queue.length - this.opts.maxQueued), 'overflow')
  }

  get full (): boolean { return this.queue.length >= this.opts.maxBatch }

  /** Sends what is queued, one batch after another; a flush already running is joined. */
  async flush (keepalive = false): Promise<FlushResult> {
    if (this.running !== null) return await this.running
    this.running = this.drain(keepalive)
    try {
      return await this.running
    } finally {
      this.running = null
    }
  }

  private async drain (keepalive: boolean): Promise<FlushResult> {
    const total: FlushResult = { sent: 0, accepted: 0, requeued: 0 }
    const rounds = Math.ceil(this.queue.length / this.opts.maxBatch)
    for (let i = 0; i < rounds && this.queue.length > 0; i++) {
      const batch = this.queue.splice(0, this.opts.maxBatch)
      total.sent += batch.length
      const attempt = await this.opts.send(batch, keepalive)
      if (retryable(attempt) || attempt.kind !== 'answer') {
        this.queue.unshift(...batch)
        total.requeued += batch.length
        break
      }
      if (attempt.status !== 202) {
        this.opts.onDrop(batch, 'refused')
        continue
      }
      const answer = attempt.body as EventsResponse
      total.accepted += answer.accepted
      const again = answer.rejected.filter((r) => r.reason === 'unavailable').map((r) => batch[r.index]).filter((e): e is Event => e !== undefined)
      this.queue.unshift(...again)
      total.requeued += again.length
      if (again.length > 0) break
    }
    return total
  }
}
