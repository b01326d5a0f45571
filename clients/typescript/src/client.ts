import { EventQueue, type FlushResult } from './event-queue.js'
import { newId } from './ids.js'
import { onPageHide } from './page-lifecycle.js'
import { type Attempt, errorBodyOf, retryNow, send, type TransportOptions } from './transport.js'
import type { Decision, DecideRequest, DecideResponse, Event, EventType } from './types.js'

export interface PopguardClientOptions {
  /** Where popguard answers, e.g. `https://popguard.internal.example.com`. */
  baseUrl: string
  /** An API key with the `client` scope. */
  apiKey: string
  /**
   * The end-user token (a JWT your backend signs for the user), or a function giving the
   * current one: required when the key is configured for device calls.
   */
  userToken?: string | (() => string | Promise<string>)
  /** Deadline of one decide attempt (ms); past it the attempt counts as a timeout. Default 500. */
  timeoutMs?: number
  /** More attempts after a timeout, network error or 5xx, with the same requestId. Default 1. */
  retries?: number
  /** Pause before a retry (ms). Default 50. */
  retryDelayMs?: number
  /** Events are sent at least this often (ms). Default 5000. */
  flushIntervalMs?: number
  /** At most this many events per request; a full batch is sent at once. Default 100. */
  maxBatch?: number
  /** At most this many events wait; the oldest are dropped past it. Default 1000. */
  maxQueued?: number
  /** Send the queued events when the page is hidden or left (browsers). Default true. */
  flushOnPageHide?: boolean
  /** The fetch to use (tests, custom agents). Default: the global fetch. */
  fetch?: typeof fetch
  /** Told of events popguard refused (4xx) or that overflowed the queue. */
  onEventsDropped?: (events: Event[], why: 'refused' | 'overflow') => void
}

export interface DecideInput extends Omit<DecideRequest, 'candidates' | 'requestId'> {
  /** Campaign ids, in your order of preference (or `{campaignId}` objects). */
  candidates: (string | { campaignId: string })[]
  /** Your own idempotency key; one is generated otherwise. */
  requestId?: string
}

/** What an event is about: a Decision that showed something, or its ids. */
export type EventSubject = Pick<Decision, 'decisionId' | 'userId' | 'show'> | { decisionId: string, userId: string, campaignId: string }

const EVENTS_TIMEOUT_MS = 5000
/** Flushes started in the background report through their result, not by throwing. */
const ignore = (): void => {}
const sleep = async (ms: number): Promise<void> => await new Promise((resolve) => setTimeout(resolve, ms))

function failedReason (a: Attempt): Decision['reason'] {
  if (a.kind !== 'answer') return a.kind
  if (a.status === 503) return 'unavailable'
  return a.status >= 500 ? 'server_error' : 'refused'
}

/**
 * popguard for apps: `decide` never throws and answers "show nothing" whenever popguard cannot
 * be asked in time, saying why; events are queued and sent in batches.
 */
export class PopguardClient {
  private readonly transport: TransportOptions
  private readonly timeoutMs: number
  private readonly retries: number
  private readonly retryDelayMs: number
  private readonly queue: EventQueue
  private readonly timer: ReturnType<typeof setInterval>
  private readonly stopListening: () => void

  constructor (opts: PopguardClientOptions) {
    const fetchImpl = opts.fetch ?? globalThis.fetch.bind(globalThis)
    this.transport = { baseUrl: opts.baseUrl, apiKey: opts.apiKey, fetch: fetchImpl, ...(opts.userToken === undefined ? {} : { userToken: opts.userToken }) }
    this.timeoutMs = opts.timeoutMs ?? 500
    this.retries = Math.max(0, opts.retries ?? 1)
    this.retryDelayMs = opts.retryDelayMs ?? 50
    this.queue = new EventQueue({
      send: async (events, keepalive) => await send(this.transport, 'POST', '/v1/events', { events }, EVENTS_TIMEOUT_MS, { keepalive }),
      maxBatch: opts.maxBatch ?? 100,
      maxQueued: opts.maxQueued ?? 1000,
      onDrop: opts.onEventsDropped ?? (() => {})
    })
    this.timer = setInterval(() => { this.flush().catch(ignore) }, opts.flushIntervalMs ?? 5000)
    // Node: the timer alone must not keep a process alive.
    ;(this.timer as { unref?: () => void }).unref?.()
    this.stopListening = opts.flushOnPageHide === false ? () => {} : onPageHide(() => { this.queue.flush(true).catch(ignore) })
  }

  /** Which campaign to show, if any. Never throws: when popguard cannot answer, `show` is null and `reason` says why. */
  async decide (input: DecideInput): Promise<Decision> {
    const requestId = input.requestId ?? newId()
    const body: DecideRequest = {
      ...input,
      candidates: input.candidates.map((c) => typeof c === 'string' ? { campaignId: c } : c),
      requestId
    }
    let attempt: Attempt = { kind: 'network_error' }
    let attempts = 0
    try {
      // The same requestId on every attempt: popguard answers a repeat with its first answer, counted once.
      for (;;) {
        attempts++
        attempt = await send(this.transport, 'POST', '/v1/decide', body, this.timeoutMs, { requestId })
        if (!retryNow(attempt) || attempts > this.retries) break
        await sleep(this.retryDelayMs)
      }
    } catch {
      // Nothing above should throw; whatever did, the app's render path must not see it.
    }
    const base = { userId: input.userId, requestId, attempts }
    if (attempt.kind === 'answer' && attempt.status === 200) {
      const answer = attempt.body as DecideResponse
      return { ...base, show: answer.show, reason: 'decided', decisionId: answer.decisionId, answer, status: 200 }
    }
    const error = attempt.kind === 'answer' ? errorBodyOf(attempt.body) : undefined
    return {
      ...base,
      show: null,
      reason: failedReason(attempt),
      ...(attempt.kind === 'answer' ? { status: attempt.status } : {}),
      ...(error === undefined ? {} : { error })
    }
  }

  /**
   * Queues an event about a decision: `shown` once the pop-up is on screen, `discarded` when it
   * was allowed but not rendered, then `dismissed`, `clicked`, `converted` or `complained`.
   * Returns false (and queues nothing) for a decision that showed nothing.
   */
  track (type: EventType, subject: EventSubject, at: Date = new Date()): boolean {
    const campaignId = 'campaignId' in subject ? subject.campaignId : subject.show?.campaignId
    if (campaignId === undefined || subject.decisionId === undefined) return false
    this.queue.push({ type, decisionId: subject.decisionId, userId: subject.userId, campaignId, at: at.toISOString() })
    if (this.queue.full) this.flush().catch(ignore)
    return true
  }

  shown (subject: EventSubject): boolean { return this.track('shown', subject) }
  discarded (subject: EventSubject): boolean { return this.track('discarded', subject) }
  dismissed (subject: EventSubject): boolean { return this.track('dismissed', subject) }
  clicked (subject: EventSubject): boolean { return this.track('clicked', subject) }
  converted (subject: EventSubject): boolean { return this.track('converted', subject) }
  complained (subject: EventSubject): boolean { return this.track('complained', subject) }

  /** Events waiting to be sent. */
  get pendingEvents (): number { return this.queue.size }

  /** Sends the queued events now. Never throws. */
  async flush (): Promise<FlushResult> {
    return await this.queue.flush(false)
  }

  /** Stops the timer and the page listeners, and sends what is queued. */
  async close (): Promise<FlushResult> {
    clearInterval(this.timer)
    this.stopListening()
    return await this.flush()
  }
}
