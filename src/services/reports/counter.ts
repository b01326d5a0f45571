import type { DecisionRecord } from '../decide/decision-service.js'
import type { Cohort } from '../../rules/decide/types.js'
import { calendarDayBounds } from '../../rules/time.js'
import { addUser, emptyBatch, PREFERENCES_COUNTS, increment, isEmpty, mergeInto, SHOWN_SQUARES, userCount, type CountBatch } from '../../rules/reports/batch.js'
import { reportDay } from '../../rules/reports/day.js'
import { shadowRuleKey, WOULD_SUPPRESS } from '../../rules/reports/shadow.js'

/** Campaign ids the registry does not know are counted under one name, so clients cannot grow the key space. */
export const UNKNOWN_CAMPAIGN = '(unknown)'

export type ReportClass = 'critical' | 'service' | 'marketing' | 'unknown'

export interface ReportEvent {
  type: 'shown' | 'discarded' | 'dismissed' | 'clicked' | 'converted' | 'complained'
  campaignId: string
  cohort: Cohort
  /** When it was received (ms); absent: now. */
  receivedAt?: number
  /**
   * For a `shown` of a marketing campaign: it was the user's k-th marketing pop-up of that report
   * day, as the store counted it (EventRecord.dayShows); absent or 0: taken as 1.
   */
  dayShows?: number
}

export interface CounterOptions {
  clock: () => number
  timeZone: () => string
  classOf: (campaignId: string) => ReportClass
  /**
   * Distinct user pseudonyms kept per day and cohort until a flush takes them: while the store
   * is away they would pile up without end. Past it users are left out (that day's user count
   * becomes a lower bound, and the report says so).
   */
  maxPendingUsers: number
  /** Told how many pseudonyms were left out (metrics). */
  onUsersDropped?: (n: number) => void
}

/**
 * Counts decisions and events in memory, per report day. Observing is map increments only;
 * `drain` hands the counts to the flusher and starts afresh.
 */
export class ReportCounter {
  private live = emptyBatch()
  private today = { zone: '', start: 0, end: 0, day: '' }

  constructor (private readonly opts: CounterOptions) {}

  readonly observeDecision = (r: DecisionRecord): void => {
    if (r.replayed) return
    const day = this.day()
    const a = r.answer
    const cohort = a.cohort
    let marketingSlot = false
    a.candidates.forEach((c, i) => {
      const campaignClass = r.classes[i] ?? 'unknown'
      if (campaignClass === 'marketing') marketingSlot = true
      const campaign = campaignClass === 'unknown' ? UNKNOWN_CAMPAIGN : c.campaignId
      const field = `${campaign}|${r.placement}|${campaignClass}|${cohort}|${c.allowed ? 'a' : 's'}|${c.reason}|${c.enforced === false ? 0 : 1}`
      increment(this.live, 'c:' + day, field)
    })
    const d = 'd:' + day
    increment(this.live, d, cohort + '|decisions')
    if (a.show !== null) increment(this.live, d, cohort + '|allowed')
    if (r.degraded) increment(this.live, d, cohort + '|degraded')
    if (marketingSlot) increment(this.live, d, cohort + '|mslots')
    if (a.show !== null && r.classes[a.candidates.findIndex((c) => c.allowed)] === 'marketing') increment(this.live, d, cohort + '|mallowed')
    if (r.shadows !== undefined) {
      for (const s of r.shadows) if (s !== null && s !== undefined) increment(this.live, d, `${cohort}|${WOULD_SUPPRESS}${shadowRuleKey(s)}`)
    }
    if (!addUser(this.live, day, cohort, r.user, this.opts.maxPendingUsers)) this.opts.onUsersDropped?.(1)
  }

  /** One accepted event. */
  recordEvent (e: ReportEvent): void {
    const campaignClass = this.opts.classOf(e.campaignId)
    const campaign = campaignClass === 'unknown' ? UNKNOWN_CAMPAIGN : e.campaignId
    const day = this.day(e.receivedAt)
    increment(this.live, 'e:' + day, `${campaign}|${e.cohort}|${campaignClass}|${e.type}`)
    // Σx² over users, kept exact without per-user state: going from k - 1 to k shows adds k² - (k - 1)².
    if (e.type === 'shown' && campaignClass === 'marketing') increment(this.live, 'd:' + day, `${e.cohort}|${SHOWN_SQUARES}`, 2 * Math.max(1, e.dayShows ?? 1) - 1)
  }

  /**
   * One stored change of a user's preferences, counted in the day's `d:` hash as
   * `prefs|<change>` (marketing_off, category_off, snooze, ...) and `prefs|via:<source>`.
   */
  recordPreferenceChange (change: string, via: string, at?: number): void {
    const d = 'd:' + this.day(at)
    increment(this.live, d, `${PREFERENCES_COUNTS}|${change}`)
    increment(this.live, d, `${PREFERENCES_COUNTS}|via:${via}`)
  }

  /** The counts so far; the counter starts empty again. */
  drain (): CountBatch | null {
    if (isEmpty(this.live)) return null
    const batch = this.live
    this.live = emptyBatch()
    return batch
  }

  /** Puts back a batch that certainly was not applied (still within maxPendingUsers). */
  restore (batch: CountBatch): void {
    const dropped = mergeInto(batch, this.live, this.opts.maxPendingUsers)
    if (dropped > 0) this.opts.onUsersDropped?.(dropped)
    this.live = batch
  }

  /** User pseudonyms waiting for a flush. */
  pendingUsers (): number {
    return userCount(this.live)
  }

  /** The report day of `at` (default now); day bounds are cached so a decision costs no date formatting. */
  private day (at?: number): string {
    const now = at ?? this.opts.clock()
    const zone = this.opts.timeZone()
    const t = this.today
    if (zone === t.zone && now >= t.start && now < t.end) return t.day
    const { start, end } = calendarDayBounds(now, zone)
    this.today = { zone, start, end, day: reportDay(now, zone) }
    return this.today.day
  }
}
