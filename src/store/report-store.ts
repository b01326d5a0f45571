import type { CountBatch } from '../rules/reports/batch.js'
import type { StoredDay } from '../rules/reports/stored-day.js'
export type { StoredDay }

/** Where flushed report counts live: Redis in production, memory for one development instance. */
export interface ReportStore {
  /** Relative error of its distinct-user counts: 0 when exact, HyperLogLog's in Redis. */
  readonly userCountError: number
  /** Applies a batch at most once per flush id. Throws FlushNotSentError when nothing was sent. */
  apply (batch: CountBatch, flushId: string): Promise<void>
  read (days: string[]): Promise<StoredDay[]>
  close (): Promise<void>
}

/** The flush certainly did not reach the store: its counts may go back to the live counter. */
export class FlushNotSentError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'FlushNotSentError'
  }
}
