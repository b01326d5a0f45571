/**
 * The stateless half of a decision: every rule that needs only the request, the
 * policy and the clock, and the caps each candidate must pass, ready for the store.
 */
import { decisionNonce } from './limits.js'
import { penaltyInForce, type CompiledCampaign, type CompiledCap, type CompiledPolicy } from '../policy/compile.js'
import { nameCode } from './codes.js'
import { calendarDayBounds, secondsLeftInWindow } from '../time.js'
import type { ClassCode, DecisionPlan, PlanCandidate, PlanCap } from './types.js'

export interface DecideInput {
  userId: string
  placement: string
  candidates: { campaignId: string }[]
  requestId?: string
  context?: { timezone?: string, activity?: string, platform?: string, sessionId?: string }
}

const CLASS_CODE: Record<CompiledCampaign['class'], ClassCode> = { critical: 'c', service: 's', marketing: 'm' }
const IDEMPOTENCY_TTL_MS = 10 * 60_000
/** Spread of ledger expiries, so keys written together do not expire in one wave. */
const TTL_JITTER_MS = 60_000

function penalized (c: CompiledCampaign, action: 'suspend' | 'limit', now: number): boolean {
  return c.penalty !== null && c.penalty.action === action && penaltyInForce(c.penalty.untilMs, now)
}

function isActive (c: CompiledCampaign, now: number): boolean {
  return c.status === 'active' && !penalized(c, 'suspend', now) && (c.startsAtMs === null || c.startsAtMs <= now) && (c.endsAtMs === null || now < c.endsAtMs)
}

function capApplies (cap: CompiledCap, c: CompiledCampaign, placement: string): boolean {
  const m = cap.match
  return (m.category === undefined || m.category === c.category) &&
    (m.campaign === undefined || m.campaign === c.id) &&
    (m.placement === undefined || m.placement === placement)
}

interface PlanContext {
  now: number
  placement: string
  placementCode: string
  timezone: string
  /** Seconds left in quiet hours (0: outside), computed once per decision: it needs an Intl call. */
  quietSecondsLeft: () => number
}

function planCap (cap: CompiledCap, c: CompiledCampaign, ctx: PlanContext, dayBounds: () => { start: number, end: number }): PlanCap {
  const reserved = cap.reserve !== null && c.priority < cap.reserve.minPriority ? cap.reserve.slots : 0
  const m = cap.match
  const byCampaign = cap.per === 'campaign' ? c.id : m.campaign
  const byCategory = cap.per === 'category' ? c.category : m.category
  const byPlacement = cap.per === 'placement' ? ctx.placement : m.placement
  const day = cap.windowMs === null ? dayBounds() : null
  return {
    id: cap.id,
    limit: Math.max(0, cap.limit - reserved),
    // A rolling window holds impressions younger than its length: one exactly that old has left it.
    since: day === null ? ctx.now - (cap.windowMs ?? 0) + 1 : day.start,
    resetAt: day === null ? 0 : day.end,
    windowMs: cap.windowMs ?? 0,
    campaignCode: byCampaign === undefined ? '' : nameCode('campaign', byCampaign),
    categoryCode: byCategory === undefined ? '' : nameCode('category', byCategory),
    placementCode: byPlacement === undefined ? '' : nameCode('placement', byPlacement),
    shadow: cap.shadow
  }
}

function planCandidate (campaignId: string, policy: CompiledPolicy, input: DecideInput, ctx: PlanContext,
  dayBounds: () => { start: number, end: number }): PlanCandidate {
  const c = policy.campaigns.get(campaignId)
  const candidate: PlanCandidate = {
    classCode: 'm', priority: 0, campaignCode: nameCode('campaign', campaignId), categoryCode: '', categoryName: '', final: '', gate: '', gateRetryMs: 0, caps: [], shadowGate: ''
  }
  if (c === undefined) {
    candidate.final = 'campaign_unknown'
    return candidate
  }
  candidate.classCode = CLASS_CODE[c.class]
  candidate.priority = c.priority
  candidate.categoryCode = c.categoryCode
  candidate.categoryName = c.category
  if (!isActive(c, ctx.now)) {
    candidate.final = 'campaign_inactive'
    return candidate
  }
  if (c.class === 'critical') return candidate

  const activity = input.context?.activity
  if (activity !== undefined && policy.doNotInterrupt.has(activity)) {
    candidate.gate = 'do_not_interrupt'
  } else if (policy.quietHours !== null) {
    const left = ctx.quietSecondsLeft()
    if (left > 0 && policy.shadowRules.quietHours) {
      candidate.shadowGate = 'quiet_hours'
    } else if (left > 0) {
      candidate.gate = 'quiet_hours'
      candidate.gateRetryMs = left * 1000
    }
  }
  if (c.class === 'marketing') {
    const penaltyCaps = penalized(c, 'limit', ctx.now) ? c.penalty?.caps ?? [] : []
    // Plain loops: this runs for every candidate of every decision.
    for (const caps of [policy.caps, c.caps, penaltyCaps]) {
      for (const cap of caps) if (capApplies(cap, c, ctx.placement)) candidate.caps.push(planCap(cap, c, ctx, dayBounds))
    }
  }
  return candidate
}

export interface PlanOptions { now: number, decisionId: string, enforce: boolean, echo: string }

/** Builds the store's plan; the time zone must already be known valid. */
export function planDecision (input: DecideInput, policy: CompiledPolicy, timezone: string, opts: PlanOptions): DecisionPlan {
  let quietLeft: number | undefined
  const quiet = policy.quietHours
  const ctx: PlanContext = {
    now: opts.now,
    placement: input.placement,
    placementCode: nameCode('placement', input.placement),
    timezone,
    quietSecondsLeft: () => (quietLeft ??= quiet === null ? 0 : secondsLeftInWindow(opts.now, timezone, quiet.startMinute, quiet.endMinute))
  }
  let bounds: { start: number, end: number } | undefined
  const dayBounds = (): { start: number, end: number } => (bounds ??= calendarDayBounds(opts.now, timezone))
  return {
    now: opts.now,
    decisionId: opts.decisionId,
    nonce: decisionNonce(opts.decisionId),
    requestId: input.requestId ?? '',
    enforce: opts.enforce,
    placementCode: ctx.placementCode,
    horizonMs: policy.horizonMs,
    ledgerTtlMs: policy.horizonMs + policy.leaseMs + Math.floor(Math.random() * TTL_JITTER_MS),
    leaseMs: policy.leaseMs,
    releaseUnconfirmed: policy.unconfirmed === 'release',
    cooldownMs: policy.cooldownMs,
    cooldownShadow: policy.shadowRules.cooldown,
    fatigueShadow: policy.shadowRules.fatigue,
    idempotencyTtlMs: IDEMPOTENCY_TTL_MS,
    echo: opts.echo,
    candidates: input.candidates.map((x) => planCandidate(x.campaignId, policy, input, ctx, dayBounds))
  }
}
