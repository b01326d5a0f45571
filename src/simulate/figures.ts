/**
 * The daily report's figures over a replay, for one side (recorded or candidate). Pure, and
 * bounded by campaigns × reasons and by days; users cost one histogram slot per distinct count.
 */
import { reportDay } from '../rules/reports/day.js'
import { calendarDayBounds } from '../rules/time.js'
import { shadowRuleKey } from '../rules/reports/shadow.js'

/** Campaign ids the policy does not know are counted under one name, as the reports do. */
export const UNKNOWN_CAMPAIGN = '(unknown)'

/** One candidate's outcome, from the log (recorded) or from the rules (candidate). */
export interface CandidateOutcome {
  campaignId: string
  class: string
  allowed: boolean
  reason: string
  capId?: string
  /** A rule in shadow mode that would have suppressed it. */
  shadow?: { reason: string, capId?: string }
}

export interface CampaignFigures {
  campaignId: string
  class: string
  requested: number
  allowed: number
  suppressed: Record<string, number>
  wouldSuppress: Record<string, number>
}

export interface DayFigures {
  day: string
  decisions: number
  marketingRequested: number
  marketingShown: number
  reduction: number | null
}

export interface PerUserDay {
  /** User-days: a user who asked for a decision on a day, counted once per day. */
  userDays: number
  mean: number | null
  p50: number | null
  p95: number | null
  max: number | null
  /** Marketing pop-ups shown in a user-day → user-days: what merges the percentiles of replays split by user. */
  histogram: Record<string, number>
}

export interface SideFigures {
  decisions: number
  /** Candidates named in decisions (all classes). */
  requested: number
  /** Decisions answered with a pop-up to show. */
  allowed: number
  degraded: number
  /** Candidates not shown, by the rule that stopped them. */
  suppressed: Record<string, number>
  /** Candidates a rule in shadow mode would have suppressed: `cap:<id>`, `cooldown`, `quiet_hours`, `fatigue`. */
  wouldSuppress: Record<string, number>
  marketing: {
    /** Decisions with at least one marketing candidate. */
    requested: number
    /** Marketing pop-ups allowed, taken as shown (docs/simulator.md, assumptions). */
    shown: number
    /** 1 - shown / requested. */
    reduction: number | null
  }
  /** Marketing pop-ups shown per user per day. */
  perUserDay: PerUserDay
  campaigns: CampaignFigures[]
  days: DayFigures[]
}

const add = (r: Record<string, number>, key: string, n = 1): void => { r[key] = (r[key] ?? 0) + n }

/** Nearest rank: the smallest count with at least q of the user-days at or below it. */
function percentile (histogram: Map<number, number>, total: number, q: number): number | null {
  if (total === 0) return null
  const rank = Math.max(1, Math.ceil(q * total))
  let seen = 0
  for (const k of [...histogram.keys()].sort((a, b) => a - b)) {
    seen += histogram.get(k) ?? 0
    if (seen >= rank) return k
  }
  return null
}

export class Tally {
  private decisions = 0
  private requested = 0
  private allowed = 0
  private degraded = 0
  private readonly suppressed: Record<string, number> = {}
  private readonly wouldSuppress: Record<string, number> = {}
  private mRequested = 0
  private mShown = 0
  private readonly campaigns = new Map<string, CampaignFigures>()
  private readonly days = new Map<string, DayFigures>()
  /** Shows per user-day → user-days. */
  private readonly histogram = new Map<number, number>()
  private userDays = 0
  private lastDay: DayFigures | undefined

  /** One decision's candidates; returns how many marketing pop-ups it showed (0 or 1). */
  decision (day: string, outcomes: readonly CandidateOutcome[], degraded: boolean): number {
    this.decisions++
    if (degraded) this.degraded++
    let marketing = false
    let shown = 0
    let shownAny = false
    for (const o of outcomes) {
      this.requested++
      const id = o.class === 'unknown' ? UNKNOWN_CAMPAIGN : o.campaignId
      let c = this.campaigns.get(id)
      if (c === undefined) {
        c = { campaignId: id, class: o.class, requested: 0, allowed: 0, suppressed: {}, wouldSuppress: {} }
        this.campaigns.set(id, c)
      }
      c.requested++
      if (o.class === 'marketing') marketing = true
      if (o.allowed) {
        c.allowed++
        shownAny = true
        if (o.class === 'marketing') shown = 1
      } else {
        add(this.suppressed, o.reason)
        add(c.suppressed, o.reason)
      }
      if (o.shadow !== undefined) {
        const key = shadowRuleKey(o.shadow)
        add(this.wouldSuppress, key)
        add(c.wouldSuppress, key)
      }
    }
    if (shownAny) this.allowed++
    let d = this.lastDay?.day === day ? this.lastDay : this.days.get(day)
    if (d === undefined) {
      d = { day, decisions: 0, marketingRequested: 0, marketingShown: 0, reduction: null }
      this.days.set(day, d)
    }
    this.lastDay = d
    d.decisions++
    if (marketing) {
      this.mRequested++
      d.marketingRequested++
    }
    this.mShown += shown
    d.marketingShown += shown
    return shown
  }

  /** A user's marketing pop-ups on one day they asked. */
  userDay (shows: number): void {
    this.userDays++
    this.histogram.set(shows, (this.histogram.get(shows) ?? 0) + 1)
  }

  figures (): SideFigures {
    let max: number | null = null
    for (const k of this.histogram.keys()) if (max === null || k > max) max = k
    const sortById = (a: CampaignFigures, b: CampaignFigures): number => a.campaignId.localeCompare(b.campaignId)
    return {
      decisions: this.decisions,
      requested: this.requested,
      allowed: this.allowed,
      degraded: this.degraded,
      suppressed: { ...this.suppressed },
      wouldSuppress: { ...this.wouldSuppress },
      marketing: { requested: this.mRequested, shown: this.mShown, reduction: this.mRequested > 0 ? 1 - this.mShown / this.mRequested : null },
      perUserDay: {
        userDays: this.userDays,
        mean: this.userDays > 0 ? this.mShown / this.userDays : null,
        p50: percentile(this.histogram, this.userDays, 0.5),
        p95: percentile(this.histogram, this.userDays, 0.95),
        max,
        histogram: Object.fromEntries([...this.histogram].sort(([a], [b]) => a - b).map(([k, n]) => [String(k), n]))
      },
      campaigns: [...this.campaigns.values()].map((c) => ({ ...c, suppressed: { ...c.suppressed }, wouldSuppress: { ...c.wouldSuppress } })).sort(sortById),
      days: [...this.days.values()].map((d) => ({ ...d, reduction: d.marketingRequested > 0 ? 1 - d.marketingShown / d.marketingRequested : null }))
        .sort((a, b) => a.day.localeCompare(b.day))
    }
  }
}

/** The report day of an instant, with the day's bounds cached: the log's times mostly move forward. */
export class DayOf {
  private start = 0
  private end = 0
  private day = ''
  constructor (private readonly timeZone: string) {}
  of (ms: number): string {
    if (ms >= this.start && ms < this.end) return this.day
    const b = calendarDayBounds(ms, this.timeZone)
    this.start = b.start
    this.end = b.end
    this.day = reportDay(ms, this.timeZone)
    return this.day
  }
}
