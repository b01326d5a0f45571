/**
 * Replays decision log lines under a candidate policy (docs/simulator.md). Pure: the same rules the
 * service runs (planDecision, evaluate, fallbackVerdicts, applyEvents) over an in-memory state per
 * pseudonymous user, with the log's own times as the clock. No I/O: lines come in, figures go out.
 */
import { evaluate } from '../rules/decide/evaluate.js'
import { fallbackVerdicts } from '../rules/decide/fallback.js'
import { planDecision, type DecideInput } from '../rules/decide/plan.js'
import { nameCode } from '../rules/decide/codes.js'
import type { Verdict } from '../rules/decide/types.js'
import type { Fatigue, Impression, Preferences } from '../rules/decide/user-state.js'
import { applyEvents, type LoggedEvent } from '../rules/events/apply.js'
import { EVENT_CODE, type EventBatch } from '../rules/events/types.js'
import { placementOf, type CompiledPolicy } from '../rules/policy/compile.js'
import { canonicalTimeZone } from '../rules/time.js'
import { fatigueForRules } from '../rules/users/preferences.js'
import { DayOf, Tally, type CandidateOutcome, type SideFigures } from './figures.js'
import { LineError, parseLogLine, type DecisionLine, type EventsLine } from './log-line.js'

/** Slack over the ledger's horizon for the event dedupe log, as the event service keeps it. */
const LOG_SLACK_MS = 60_000
/** Bad lines listed in the result (all are counted). */
const BAD_LINES_LISTED = 10
/** Differences between the recorded and the simulated answer listed in the result. */
const DIFFERENCES_LISTED = 10
/** A category name no policy can declare (`\0`): a candidate recorded opted out is opted out through it. */
const OPTED_OUT = '\0opted-out'
const OPTED_OUT_PREFS: Preferences = { marketing: 'on', categoriesOff: [OPTED_OUT], snoozeUntil: null }

interface UserSim {
  ledger: Impression[]
  fatigue: Record<string, string>
  /** The fatigue hash as the rules read it, kept until an event changes the hash. */
  fatigueRules: Fatigue | null
  log: LoggedEvent[]
  /** The report day of the user's last decision, and the marketing pop-ups of that day on each side. */
  day: string
  recordedShows: number
  candidateShows: number
}

export interface BadLine { line: number, error: string }

export interface Agreement {
  /** Decisions replayed (replayed requests left out: they answer the first answer). */
  decisions: number
  /** Decisions whose simulated answer (pop-up, each candidate's allowed and reason) equals the recorded one. */
  sameAnswer: number
  /** The first decisions that differ. */
  differences: { line: number, decisionId: string, recorded: string, candidate: string }[]
}

export interface Difference {
  allowed: number
  suppressed: Record<string, number>
  wouldSuppress: Record<string, number>
  marketingShown: number
  reduction: number | null
  perUserDay: { mean: number | null, p50: number | null, p95: number | null, max: number | null }
  campaigns: { campaignId: string, allowed: number, suppressed: Record<string, number> }[]
}

export interface SimulationResult {
  lines: { read: number, decisions: number, events: number, ignored: number, replayedRequests: number, bad: number, outsideWindow: number }
  badLines: BadLine[]
  recorded: SideFigures
  candidate: SideFigures
  difference: Difference
  /** The candidate's answers against the recorded ones: all the same when the candidate is the policy in force. */
  agreement: Agreement
  assumptions: string[]
}

export interface SimulatorOptions {
  /** A line that is not JSON or lacks a needed field is counted and skipped; past this many the replay stops (LineError). */
  maxBadLines?: number
  /** Lines before this instant (ms) are skipped (counted as outside the window). */
  from?: number
}

const diffRecord = (a: Record<string, number>, b: Record<string, number>): Record<string, number> => {
  const out: Record<string, number> = {}
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const d = (b[k] ?? 0) - (a[k] ?? 0)
    if (d !== 0) out[k] = d
  }
  return out
}
const diffNum = (a: number | null, b: number | null): number | null => a === null || b === null ? null : b - a

type Answer = readonly { allowed: boolean, reason: string, capId?: string }[]

/** Each candidate allowed or not, for the same reason and cap (the pop-up shown follows from `allowed`). */
function sameAnswer (a: Answer, b: Answer): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) {
    const x = a[i]
    const y = b[i]
    if (x === undefined || y === undefined || x.allowed !== y.allowed || x.reason !== y.reason || x.capId !== y.capId) return false
  }
  return true
}

/**
 * `next`'s records written over `own`, which the user keeps: one array per user for the whole replay.
 * The rules return a new array on every decision, which lived until the user's next decision, long
 * enough to be promoted to the old generation and die there (a third of a replay was the GC's).
 */
function keep<T> (own: T[], next: readonly T[]): T[] {
  if (own === next) return own
  for (let i = 0; i < next.length; i++) own[i] = next[i] as T
  own.length = next.length
  return own
}

function answerKey (outcomes: Answer): string {
  return outcomes.map((o) => `${o.allowed ? 'a' : 's'}:${o.reason}${o.capId === undefined ? '' : ':' + o.capId}`).join(',')
}

export class Simulator {
  private readonly users = new Map<string, UserSim>()
  private readonly recorded = new Tally()
  private readonly candidate = new Tally()
  private readonly dayOf: DayOf
  private readonly counts = { read: 0, decisions: 0, events: 0, ignored: 0, replayedRequests: 0, bad: 0, outsideWindow: 0 }
  private readonly badLines: BadLine[] = []
  private readonly agreement: Agreement = { decisions: 0, sameAnswer: 0, differences: [] }
  private readonly noted = { noTimezone: 0, badTimezone: 0, noClass: 0, optedOut: 0, degraded: 0, eventsReplayed: 0 }
  private readonly maxBadLines: number

  constructor (private readonly policy: CompiledPolicy, opts: SimulatorOptions = {}) {
    this.dayOf = new DayOf(policy.defaultTimezone)
    this.maxBadLines = opts.maxBadLines ?? 1000
    this.from = opts.from ?? -Infinity
  }

  private readonly from: number

  /** Distinct users seen so far. */
  get userCount (): number {
    return this.users.size
  }

  /** One line of the log; `lineNumber` (1-based) names it in errors. */
  line (text: string, lineNumber = this.counts.read + 1): void {
    this.counts.read++
    let parsed
    try {
      parsed = parseLogLine(text)
    } catch (err) {
      if (!(err instanceof LineError)) throw err
      this.counts.bad++
      if (this.badLines.length < BAD_LINES_LISTED) this.badLines.push({ line: lineNumber, error: err.message })
      if (this.counts.bad > this.maxBadLines) {
        throw new LineError(`more than ${this.maxBadLines} malformed lines (the last: line ${lineNumber}, ${err.message}): is this a popguard decision log?`)
      }
      return
    }
    if (parsed === null) this.counts.ignored++
    else if (parsed.at < this.from) this.counts.outsideWindow++
    else if (parsed.kind === 'decision') this.decision(parsed, lineNumber)
    else this.events(parsed)
  }

  private user (pseudonym: string): UserSim {
    let u = this.users.get(pseudonym)
    if (u === undefined) {
      u = { ledger: [], fatigue: {}, fatigueRules: null, log: [], day: '', recordedShows: 0, candidateShows: 0 }
      this.users.set(pseudonym, u)
    }
    return u
  }

  private classOf (campaignId: string): string {
    return this.policy.campaigns.get(campaignId)?.class ?? 'unknown'
  }

  private timezoneOf (line: DecisionLine): string {
    if (line.timezone === undefined) {
      this.noted.noTimezone++
      return this.policy.defaultTimezone
    }
    const zone = canonicalTimeZone(line.timezone)
    if (zone === null) this.noted.badTimezone++
    return zone ?? this.policy.defaultTimezone
  }

  private decision (line: DecisionLine, lineNumber: number): void {
    this.counts.decisions++
    // The same requestId again: the first answer, nothing counted twice (as the reports do).
    if (line.replayed) {
      this.counts.replayedRequests++
      return
    }
    const day = this.dayOf.of(line.at)
    const u = this.user(line.user)
    if (u.day !== day) {
      if (u.day !== '') this.closeUserDay(u)
      u.day = day
    }

    // The logged candidates are the recorded outcomes (the class filled in for lines logged without it).
    for (const c of line.candidates) {
      if (c.class === undefined) {
        this.noted.noClass++
        c.class = this.classOf(c.campaignId)
      }
    }
    const recorded = line.candidates as CandidateOutcome[]
    u.recordedShows += this.recorded.decision(day, recorded, line.degraded)

    const { winner, verdicts } = this.decide(line, u)
    const simulated: CandidateOutcome[] = line.candidates.map((c, i): CandidateOutcome => {
      const v: Verdict = verdicts[i] ?? { reason: 'degraded' }
      const o: CandidateOutcome = { campaignId: c.campaignId, class: this.classOf(c.campaignId), allowed: i === winner, reason: v.reason }
      if (v.capId !== undefined) o.capId = v.capId
      if (v.shadow !== undefined) o.shadow = v.shadow
      return o
    })
    u.candidateShows += this.candidate.decision(day, simulated, line.degraded)

    this.agreement.decisions++
    if (sameAnswer(recorded, simulated)) this.agreement.sameAnswer++
    else if (this.agreement.differences.length < DIFFERENCES_LISTED) {
      this.agreement.differences.push({ line: lineNumber, decisionId: line.decisionId, recorded: answerKey(recorded), candidate: answerKey(simulated) })
    }
  }

  /** The candidate policy's answer, and the user's state after it. */
  private decide (line: DecisionLine, u: UserSim): { winner: number, verdicts: Verdict[] } {
    const policy = this.policy
    const input: DecideInput = {
      userId: '',
      placement: placementOf(policy, line.placement),
      candidates: line.candidates,
      context: line.activity === undefined ? undefined : { activity: line.activity }
    }
    const plan = planDecision(input, policy, this.timezoneOf(line), {
      now: line.at,
      decisionId: line.decisionId,
      enforce: policy.mode === 'enforce' && line.cohort === 'treated',
      echo: ''
    })
    if (line.degraded) {
      this.noted.degraded++
      return fallbackVerdicts(plan, policy)
    }
    // Consent is not in the log: what was recorded opted out stays opted out, nothing else is.
    let prefs: Preferences | null = null
    line.candidates.forEach((c, i) => {
      const p = plan.candidates[i]
      if (c.reason === 'opted_out' && p !== undefined) {
        p.categoryName = OPTED_OUT
        prefs = OPTED_OUT_PREFS
        this.noted.optedOut++
      }
    })
    const { winner, verdicts, ledger } = evaluate(plan, { ledger: u.ledger, prefs, fatigue: u.fatigueRules })
    keep(u.ledger, ledger)
    return { winner, verdicts }
  }

  private events (line: EventsLine): void {
    this.counts.events++
    const byUser = new Map<string, EventsLine['items']>()
    for (const e of line.items) {
      // `unavailable`: the store never applied it.
      if (e.outcome === 'unavailable') continue
      const list = byUser.get(e.user)
      if (list === undefined) byUser.set(e.user, [e])
      else list.push(e)
    }
    const policy = this.policy
    const logMs = policy.horizonMs + policy.leaseMs + LOG_SLACK_MS
    for (const [pseudonym, items] of byUser) {
      // A user with no decision yet in the log still gets the state: a dismissal backs off later decisions.
      const state = this.user(pseudonym)
      const batch: EventBatch = {
        now: line.at,
        leaseMs: policy.leaseMs,
        releaseUnconfirmed: policy.unconfirmed === 'release',
        logHorizonMs: logMs,
        logTtlMs: logMs,
        fatigueTtlMs: 0,
        fatigue: policy.fatigue ?? { dismissals: 0, withinMs: 0, backoffMs: 0 },
        dayStartMs: 0,
        dayEndMs: 0,
        events: items.map((e) => ({ n: e.decisionId.slice(0, 8), c: nameCode('campaign', e.campaignId), t: EVENT_CODE[e.type], ts: Math.min(e.at, line.at) }))
      }
      const r = applyEvents({ ledger: state.ledger, fatigue: state.fatigue, log: state.log }, batch)
      keep(state.ledger, r.ledger)
      if (r.fatigueChanged) {
        state.fatigue = r.fatigue
        state.fatigueRules = fatigueForRules(r.fatigue)
      }
      keep(state.log, r.log)
      this.noted.eventsReplayed += items.length
    }
  }

  private closeUserDay (u: UserSim): void {
    this.recorded.userDay(u.recordedShows)
    this.candidate.userDay(u.candidateShows)
    u.recordedShows = 0
    u.candidateShows = 0
  }

  /** The figures so far; call once, at the end (it closes every user's last day). */
  result (): SimulationResult {
    for (const u of this.users.values()) {
      if (u.day !== '') this.closeUserDay(u)
      u.day = ''
    }
    const recorded = this.recorded.figures()
    const candidate = this.candidate.figures()
    const campaignIds = new Set([...recorded.campaigns, ...candidate.campaigns].map((c) => c.campaignId))
    const byId = (side: SideFigures, id: string) => side.campaigns.find((c) => c.campaignId === id)
    return {
      lines: { ...this.counts },
      badLines: [...this.badLines],
      recorded,
      candidate,
      difference: {
        allowed: candidate.allowed - recorded.allowed,
        suppressed: diffRecord(recorded.suppressed, candidate.suppressed),
        wouldSuppress: diffRecord(recorded.wouldSuppress, candidate.wouldSuppress),
        marketingShown: candidate.marketing.shown - recorded.marketing.shown,
        reduction: diffNum(recorded.marketing.reduction, candidate.marketing.reduction),
        perUserDay: {
          mean: diffNum(recorded.perUserDay.mean, candidate.perUserDay.mean),
          p50: diffNum(recorded.perUserDay.p50, candidate.perUserDay.p50),
          p95: diffNum(recorded.perUserDay.p95, candidate.perUserDay.p95),
          max: diffNum(recorded.perUserDay.max, candidate.perUserDay.max)
        },
        campaigns: [...campaignIds].sort().map((id) => {
          const a = byId(recorded, id)
          const b = byId(candidate, id)
          return { campaignId: id, allowed: (b?.allowed ?? 0) - (a?.allowed ?? 0), suppressed: diffRecord(a?.suppressed ?? {}, b?.suppressed ?? {}) }
        })
      },
      agreement: { ...this.agreement, differences: [...this.agreement.differences] },
      assumptions: this.assumptions()
    }
  }

  private assumptions (): string[] {
    const n = this.noted
    const out = [
      'Shown: every marketing pop-up an answer allowed is taken as shown (the daily report counts confirmed `shown` events instead).',
      'Consent (opt-outs, snoozes) is not in the log: a candidate recorded `opted_out` stays opted out under the candidate policy, no other is' +
        (n.optedOut > 0 ? ` (${n.optedOut} candidates).` : '.'),
      'The cohort (holdout or treated) is the recorded one: the raw user id a new holdout salt would need is not logged.',
      `Report days are calendar days in the candidate policy's default zone (${this.policy.defaultTimezone}).`,
      'Placements are as logged: an undeclared placement was logged as `other` and stays `other`.'
    ]
    if (this.counts.replayedRequests > 0) out.push(`${this.counts.replayedRequests} replayed requests (same requestId) answered the first answer and are not counted again.`)
    if (n.degraded > 0) out.push(`${n.degraded} decisions were made without the store (degraded): answered by the candidate's onStoreFailure, nothing recorded.`)
    if (n.noTimezone > 0) out.push(`${n.noTimezone} decision lines carry no time zone (logged before it was): the candidate's default zone is assumed.`)
    if (n.badTimezone > 0) out.push(`${n.badTimezone} decision lines name a zone this runtime does not know: the default zone is used.`)
    if (n.noClass > 0) out.push(`${n.noClass} logged candidates carry no class: the recorded class is taken from the candidate policy.`)
    out.push(this.counts.events > 0
      ? `${n.eventsReplayed} events were replayed (shown, discarded, dismissed, complained...); an event naming a pop-up the candidate did not show changes nothing.`
      : 'The log holds no itemised events: dismissals, complaints and discards are not replayed, so no fatigue arises in the candidate run.')
    return out
  }
}

/** Replays every line of `lines` (one string each) under `policy`. */
export function simulate (lines: Iterable<string>, policy: CompiledPolicy, opts: SimulatorOptions = {}): SimulationResult {
  const sim = new Simulator(policy, opts)
  let n = 0
  for (const text of lines) sim.line(text, ++n)
  return sim.result()
}
