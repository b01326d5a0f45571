/**
 * One line of the service's NDJSON log, as the simulator needs it (docs/simulator.md). Pure.
 * Lines other than `decision` and `events` are skipped; a decision or events line that lacks what a
 * replay needs is an error naming the field.
 */

export interface LoggedCandidate {
  campaignId: string
  allowed: boolean
  reason: string
  capId?: string
  enforced?: false
  /** The class under the policy in force (`unknown` for a campaign it did not know). */
  class?: string
  /** A rule in shadow mode that would have suppressed the candidate. */
  shadow?: { reason: string, capId?: string }
}

export interface DecisionLine {
  kind: 'decision'
  at: number
  user: string
  decisionId: string
  placement: string
  candidates: LoggedCandidate[]
  cohort: 'treated' | 'holdout'
  degraded: boolean
  replayed: boolean
  /** Absent in logs written before it was logged: the candidate policy's default zone is assumed. */
  timezone?: string
  activity?: string
}

export interface EventItem {
  user: string
  decisionId: string
  campaignId: string
  type: 'shown' | 'discarded' | 'dismissed' | 'clicked' | 'converted' | 'complained'
  at: number
  outcome: string
}

export interface EventsLine { kind: 'events', at: number, items: EventItem[] }

export type LogLine = DecisionLine | EventsLine

export class LineError extends Error {}

/** A line that may be a decision or events line (spaces allowed, as a re-serialised log may have them). */
const REPLAYED_EVENT = /"event"\s*:\s*"(?:decision|events)"/

const EVENT_TYPES = new Set(['shown', 'discarded', 'dismissed', 'clicked', 'converted', 'complained'])

const isString = (v: unknown): v is string => typeof v === 'string'
const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0

/** The line's instant: `at` (the service clock), else pino's `time` (ms) for logs written before `at`. */
function instantOf (o: Record<string, unknown>): number {
  if (isTime(o.at)) return o.at
  if (isTime(o.time)) return o.time
  if (isString(o.time) && Number.isFinite(Date.parse(o.time))) return Date.parse(o.time)
  throw new LineError('no time (`at` or `time`)')
}

function candidateOf (v: unknown, i: number): LoggedCandidate {
  const c = v as Record<string, unknown> | null
  if (c === null || typeof c !== 'object' || !isString(c.campaignId) || typeof c.allowed !== 'boolean' || !isString(c.reason)) {
    throw new LineError(`candidates[${i}] needs campaignId, allowed and reason`)
  }
  return c as unknown as LoggedCandidate
}

function decisionOf (o: Record<string, unknown>): DecisionLine {
  if (!isString(o.user) || !isString(o.decisionId) || !isString(o.placement) || !Array.isArray(o.candidates)) {
    throw new LineError('a decision line needs user, decisionId, placement and candidates')
  }
  return {
    kind: 'decision',
    at: instantOf(o),
    user: o.user,
    decisionId: o.decisionId,
    placement: o.placement,
    candidates: o.candidates.map(candidateOf),
    cohort: o.cohort === 'holdout' ? 'holdout' : 'treated',
    degraded: o.degraded === true,
    replayed: o.replayed === true,
    timezone: isString(o.timezone) ? o.timezone : undefined,
    activity: isString(o.activity) ? o.activity : undefined
  }
}

function eventsOf (o: Record<string, unknown>): EventsLine | null {
  // Lines written before events were itemised say only how many: nothing to replay.
  if (!Array.isArray(o.items)) return null
  const at = instantOf(o)
  const items = o.items.map((v, i): EventItem => {
    const e = v as Record<string, unknown> | null
    if (e === null || typeof e !== 'object' || !isString(e.user) || !isString(e.decisionId) || !isString(e.campaignId) ||
      !isString(e.type) || !EVENT_TYPES.has(e.type)) {
      throw new LineError(`items[${i}] needs user, decisionId, campaignId and a known type`)
    }
    return { user: e.user, decisionId: e.decisionId, campaignId: e.campaignId, type: e.type as EventItem['type'], at: isTime(e.at) ? e.at : at, outcome: isString(e.outcome) ? e.outcome : 'accepted' }
  })
  return { kind: 'events', at, items }
}

/** Anything but white space, as String.prototype.trim sees it (`\s` is the same set). */
const NOT_SPACE = /\S/
const SPACE = /\s/

/** The last character that is not white space, or NaN. */
function lastNonSpace (text: string): number {
  let i = text.length - 1
  while (i >= 0 && SPACE.test(text.charAt(i))) i--
  return text.charCodeAt(i)
}

/** The line as the simulator uses it; null for a line it ignores (not a decision or events line, or empty). */
export function parseLogLine (text: string): LogLine | null {
  // Not text.trim(): with it, every line cost the young generation's GC 15 times more (each scavenge
  // promoted megabytes; measured in docs/simulator.md), whatever V8 keeps of a trimmed string.
  if (!NOT_SPACE.test(text)) return null
  // Most lines of a service log are other lines (access lines, one a request): a JSON object that
  // cannot be a decision or events line is skipped without parsing it.
  if (!REPLAYED_EVENT.test(text) && text.charCodeAt(0) === 123 && lastNonSpace(text) === 125) return null
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new LineError('not JSON')
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new LineError('not a JSON object')
  const o = value as Record<string, unknown>
  if (o.event === 'decision') return decisionOf(o)
  if (o.event === 'events') return eventsOf(o)
  return null
}
