import { OTHER_PLACEMENT, type Campaign, type CampaignClass, type Penalty, type Policy } from './schema.js'
import { durationMs } from './duration.js'
import { nameCode } from '../decide/codes.js'
import { canonicalTimeZone } from '../time.js'

export interface CompiledCap {
  id: string
  per: 'user' | 'category' | 'campaign' | 'placement'
  limit: number
  /** Rolling window length in ms, or null for the user's calendar day. */
  windowMs: number | null
  match: { category?: string, campaign?: string, placement?: string }
  reserve: { slots: number, minPriority: number } | null
  /** `"mode": "shadow"`: evaluated and reported, never applied. */
  shadow: boolean
}

export interface CompiledCampaign {
  id: string
  /** For people (reports); rules never read it. */
  name: string
  class: CampaignClass
  category: string
  priority: number
  status: Campaign['status']
  startsAtMs: number | null
  endsAtMs: number | null
  caps: CompiledCap[]
  categoryCode: string
  /** A compliance penalty, in force until `untilMs` (null: until lifted); see penaltyInForce. */
  penalty: CompiledPenalty | null
}

export interface CompiledPenalty {
  action: Penalty['action']
  /** Why and by whom, for reports. */
  reason: string
  by: string
  untilMs: number | null
  caps: CompiledCap[]
}

/** A penalty applies until its `until` passes (null: until lifted): it expires by itself on every instance, with no write. */
export function penaltyInForce (untilMs: number | null, now: number): boolean {
  return untilMs === null || now < untilMs
}

export interface CompiledPolicy {
  version: number
  document: Policy
  /** The policy's default zone, canonical (see canonicalTimeZone). */
  defaultTimezone: string
  /** The declared placements; any other placement is `other` (see placementOf). */
  placements: ReadonlySet<string>
  caps: CompiledCap[]
  cooldownMs: number
  quietHours: { startMinute: number, endMinute: number } | null
  /** Rules in shadow mode (`"mode": "shadow"`): evaluated and reported, never applied. */
  shadowRules: { cooldown: boolean, quietHours: boolean, fatigue: boolean }
  doNotInterrupt: ReadonlySet<string>
  leaseMs: number
  unconfirmed: 'count' | 'release'
  /** Dismissals of one campaign within withinMs that back it off for backoffMs; null: no dismissal rule. */
  fatigue: { dismissals: number, withinMs: number, backoffMs: number } | null
  holdout: { percent: number, salt: string } | null
  mode: Policy['mode']
  onStoreFailure: Policy['onStoreFailure']
  /**
   * How far back the impression ledger must reach for every rule, and at least a report day (the
   * events script counts a user's marketing pop-ups of the day from it); older entries are pruned.
   */
  horizonMs: number
  campaigns: ReadonlyMap<string, CompiledCampaign>
}

/** Longest local day (a DST fall-back day) plus slack: the reach of a calendarDay cap, and of a report day. */
const CALENDAR_DAY_REACH_MS = 26 * 3_600_000
const DEFAULT_LEASE = '10m'

function minuteOfDay (clock: string): number {
  const [h, m] = clock.split(':').map(Number)
  return (h ?? 0) * 60 + (m ?? 0)
}

type Placements = Pick<CompiledPolicy, 'placements'>

/** A placement as caps, the ledger, reports, metrics and logs see it: a declared one, else `other`. */
export function placementOf (policy: Placements, placement: string): string {
  return policy.placements.has(placement) ? placement : OTHER_PLACEMENT
}

/**
 * A cap's `match.placement` goes through placementOf too: a campaign or penalty cap naming an
 * undeclared placement then applies to every undeclared one (stricter, never silently void).
 */
export function compileCap (cap: Policy['caps'][number], placements: Placements): CompiledCap {
  const match = cap.match ?? {}
  return {
    id: cap.id,
    per: cap.per,
    limit: cap.limit,
    windowMs: cap.window === 'calendarDay' ? null : durationMs(cap.window),
    match: match.placement === undefined ? match : { ...match, placement: placementOf(placements, match.placement) },
    reserve: cap.reserve ?? null,
    shadow: cap.mode === 'shadow'
  }
}

function compilePenalty (p: Penalty, placements: Placements): CompiledPenalty {
  return { action: p.action, reason: p.reason, by: p.by, untilMs: p.until === null ? null : Date.parse(p.until), caps: p.caps.map((cap) => compileCap(cap, placements)) }
}

export function compileCampaign (c: Campaign, placements: Placements, penalty?: Penalty): CompiledCampaign {
  return {
    id: c.id,
    name: c.name,
    class: c.class,
    category: c.category,
    priority: c.priority,
    status: c.status,
    startsAtMs: c.startsAt === null ? null : Date.parse(c.startsAt),
    endsAtMs: c.endsAt === null ? null : Date.parse(c.endsAt),
    caps: c.caps.map((cap) => compileCap(cap, placements)),
    categoryCode: nameCode('category', c.category),
    penalty: penalty === undefined ? null : compilePenalty(penalty, placements)
  }
}

function capReach (cap: CompiledCap): number {
  return cap.windowMs ?? CALENDAR_DAY_REACH_MS
}

export function compilePolicy (policy: Policy, campaigns: readonly Campaign[], version: number,
  penalties: ReadonlyMap<string, Penalty> = new Map()): CompiledPolicy {
  const placements: Placements = { placements: new Set(policy.placements ?? []) }
  const compiledCampaigns = new Map(campaigns.map((c) => [c.id, compileCampaign(c, placements, penalties.get(c.id))]))
  const caps = policy.caps.map((cap) => compileCap(cap, placements))
  const cooldown = typeof policy.cooldown === 'object' ? policy.cooldown : { duration: policy.cooldown, mode: 'enforce' }
  const cooldownMs = cooldown.duration === undefined ? 0 : durationMs(cooldown.duration)
  const leaseMs = durationMs(policy.reservation?.lease ?? DEFAULT_LEASE)
  const allCaps = [...caps, ...[...compiledCampaigns.values()].flatMap((c) => [...c.caps, ...c.penalty?.caps ?? []])]
  const horizonMs = Math.max(cooldownMs, leaseMs, CALENDAR_DAY_REACH_MS, ...allCaps.map(capReach))
  return {
    version,
    document: policy,
    defaultTimezone: canonicalTimeZone(policy.defaultTimezone) ?? policy.defaultTimezone,
    placements: placements.placements,
    caps,
    cooldownMs,
    quietHours: policy.quietHours === undefined
      ? null
      : { startMinute: minuteOfDay(policy.quietHours.start), endMinute: minuteOfDay(policy.quietHours.end) },
    shadowRules: {
      cooldown: cooldown.mode === 'shadow',
      quietHours: policy.quietHours?.mode === 'shadow',
      fatigue: policy.fatigue?.mode === 'shadow'
    },
    doNotInterrupt: new Set(policy.doNotInterrupt ?? []),
    leaseMs,
    unconfirmed: policy.reservation?.unconfirmed ?? 'count',
    fatigue: policy.fatigue === undefined
      ? null
      : { dismissals: policy.fatigue.dismissals, withinMs: durationMs(policy.fatigue.within), backoffMs: durationMs(policy.fatigue.backoff) },
    holdout: policy.holdout !== undefined && policy.holdout.percent > 0 ? policy.holdout : null,
    mode: policy.mode,
    onStoreFailure: policy.onStoreFailure,
    horizonMs,
    campaigns: compiledCampaigns
  }
}
