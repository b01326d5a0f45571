import { decisionNonce } from '../../rules/decide/limits.js'
import type { FastifyBaseLogger } from 'fastify'
import { nameCode } from '../../rules/decide/codes.js'
import { cohortOf } from '../../rules/decide/cohort.js'
import type { Cohort } from '../../rules/decide/types.js'
import { UnavailableError } from '../../errors.js'
import { ValidationError } from '../../rules/errors.js'
import type { CompiledPolicy } from '../../rules/policy/compile.js'
import { StoreUnavailableError, type Store } from '../../store/user-store.js'
import { FATIGUE_TTL_MS } from '../../rules/users/preferences.js'
import { calendarDayBounds, DAY_MS } from '../../rules/time.js'
import { EVENT_CODE, type EventBatch, type EventOutcome, type EventType } from '../../rules/events/types.js'

export interface EventInput {
  decisionId: string
  userId: string
  campaignId: string
  type: EventType
  at?: string
}

/** Why an event was not counted: the store's reason, or `unavailable` when the store did not answer (safe to resend). */
export type EventRejectReason = Exclude<EventOutcome, 'accepted'> | 'unavailable'

export interface EventsAnswer {
  accepted: number
  rejected: { index: number, reason: EventRejectReason }[]
}

/** What observers (metrics, reports) learn of each event: no user id. */
export interface EventRecord {
  type: EventType
  campaignId: string
  outcome: EventOutcome | 'unavailable'
  /** The user's cohort under the policy in force (reports compare holdout and treated). */
  cohort: Cohort
  /** When the batch was received (ms): the report day the event counts in. */
  receivedAt: number
  /** The store's AppliedEvents.dayShows for this event (0 unless an accepted marketing `shown`). */
  dayShows: number
}

export interface EventServiceOptions {
  store: Store
  policy: () => CompiledPolicy
  logger: FastifyBaseLogger
  /** The user's key tag in the store (see userTagger). */
  userTag: (userId: string) => string
  /** The user's pseudonym in logs (never the raw id); without it the log line carries no items. */
  pseudonym?: (userId: string) => string
  clock: () => number
  /** Tells every instance's over-limit cache that this user's state changed (docs/architecture.md). */
  userChanged?: (userTag: string) => void
}

/** Accepted events that free a slot (discarded) or change fatigue (dismissed, complained): cached facts about the user may be wrong. */
const CHANGES_LIMITS: ReadonlySet<EventType> = new Set<EventType>(['discarded', 'dismissed', 'complained'])

/** Slack over the ledger's life (its TTL jitter), so the dedupe log outlives every decision an event can name. */
const LOG_SLACK_MS = 60_000
/**
 * An event's `at` must lie in this window around the time of receipt: older events name decisions
 * long gone, and a time further ahead is a broken client clock. Within it, a time ahead is clamped to now.
 */
export const MAX_EVENT_AGE_MS = 30 * DAY_MS
export const MAX_EVENT_LEAD_MS = 5 * 60_000

/** A 400 naming every event whose `at` lies outside the window; nothing of the batch is applied. */
function checkEventTimes (events: EventInput[], now: number): void {
  const details = events.flatMap((e, i) => {
    if (e.at === undefined) return []
    const at = Date.parse(e.at)
    if (at >= now - MAX_EVENT_AGE_MS && at <= now + MAX_EVENT_LEAD_MS) return []
    return [{ path: `/events/${i}/at`, message: 'must be within 30 days before and 5 minutes after the time of receipt' }]
  })
  if (details.length > 0) throw new ValidationError(`invalid body ${details[0]?.path ?? ''}: ${details[0]?.message ?? ''}`, details)
}

/** One user's events as the store applies them, with the rules they need (the same for every store). */
export function eventBatchOf (events: EventInput[], policy: CompiledPolicy, now: number): EventBatch {
  const logMs = policy.horizonMs + policy.leaseMs + LOG_SLACK_MS
  const day = calendarDayBounds(now, policy.defaultTimezone)
  return {
    now,
    leaseMs: policy.leaseMs,
    releaseUnconfirmed: policy.unconfirmed === 'release',
    logHorizonMs: logMs,
    logTtlMs: logMs,
    fatigueTtlMs: FATIGUE_TTL_MS,
    fatigue: policy.fatigue ?? { dismissals: 0, withinMs: 0, backoffMs: 0 },
    dayStartMs: day.start,
    dayEndMs: day.end,
    events: events.map((e) => ({
      n: decisionNonce(e.decisionId),
      c: nameCode('campaign', e.campaignId),
      t: EVENT_CODE[e.type],
      // An event cannot happen after it is received: a client clock ahead of ours is clamped.
      ts: Math.min(e.at === undefined ? now : Date.parse(e.at), now)
    }))
  }
}

export class EventService {
  private readonly observers: ((r: EventRecord) => void)[] = []

  constructor (private readonly opts: EventServiceOptions) {}

  onEvent (observer: (r: EventRecord) => void): void {
    this.observers.push(observer)
  }

  /** Applies a validated batch: one atomic store call per user, in the batch's order. */
  async record (events: EventInput[]): Promise<EventsAnswer> {
    const started = performance.now()
    const now = this.opts.clock()
    checkEventTimes(events, now)
    const policy = this.opts.policy()
    const byUser = new Map<string, number[]>()
    events.forEach((e, i) => {
      const indexes = byUser.get(e.userId)
      if (indexes === undefined) byUser.set(e.userId, [i])
      else indexes.push(i)
    })
    const outcomes: (EventOutcome | 'unavailable')[] = new Array(events.length)
    const dayShows: number[] = new Array(events.length).fill(0)
    await Promise.all([...byUser].map(async ([userId, indexes]) => {
      const batch = eventBatchOf(indexes.map((i) => events[i] as EventInput), policy, now)
      const tag = this.opts.userTag(userId)
      try {
        const result = await this.opts.store.applyEvents(tag, batch)
        let changed = false
        indexes.forEach((i, k) => {
          outcomes[i] = result.outcomes[k] ?? 'unavailable'
          dayShows[i] = result.dayShows[k] ?? 0
          if (outcomes[i] === 'accepted' && CHANGES_LIMITS.has((events[i] as EventInput).type)) changed = true
        })
        if (changed) this.opts.userChanged?.(tag)
      } catch (err) {
        if (!(err instanceof StoreUnavailableError)) throw err
        for (const i of indexes) outcomes[i] = 'unavailable'
      }
    }))
    if (events.length > 0 && outcomes.every((o) => o === 'unavailable')) {
      this.log(events, outcomes, byUser.size, started, now)
      throw new UnavailableError('the store is unavailable: nothing was recorded, send the batch again')
    }
    this.log(events, outcomes, byUser.size, started, now)
    events.forEach((e, i) => {
      const record: EventRecord = {
        type: e.type,
        campaignId: e.campaignId,
        outcome: outcomes[i] ?? 'unavailable',
        cohort: cohortOf(e.userId, policy.holdout),
        receivedAt: now,
        dayShows: dayShows[i] ?? 0
      }
      for (const observe of this.observers) observe(record)
    })
    const rejected = outcomes.flatMap((o, index) => o === 'accepted' ? [] : [{ index, reason: o }])
    return { accepted: events.length - rejected.length, rejected }
  }

  private log (events: EventInput[], outcomes: (EventOutcome | 'unavailable')[], users: number, started: number, now: number): void {
    const pseudonym = this.opts.pseudonym
    const byType: Record<string, number> = {}
    const byOutcome: Record<string, number> = {}
    events.forEach((e, i) => {
      byType[e.type] = (byType[e.type] ?? 0) + 1
      const o = outcomes[i] ?? 'unavailable'
      byOutcome[o] = (byOutcome[o] ?? 0) + 1
    })
    this.opts.logger.info({
      event: 'events',
      received: events.length,
      users,
      byType,
      byOutcome,
      latencyMs: Math.round((performance.now() - started) * 1000) / 1000,
      // Each event as the store applied it, for a replay (docs/simulator.md): the user as a pseudonym only.
      at: now,
      items: pseudonym === undefined
        ? undefined
        : events.map((e, i) => ({
          user: pseudonym(e.userId),
          decisionId: e.decisionId,
          campaignId: e.campaignId,
          type: e.type,
          at: Math.min(e.at === undefined ? now : Date.parse(e.at), now),
          outcome: outcomes[i] ?? 'unavailable'
        }))
    }, 'events')
  }
}
