/**
 * The stateful half of a decision, as a pure function over one user's state.
 * The in-memory store runs it directly; src/redis/user-store/decide.lua is its twin for
 * Redis, and test/conformance holds both to the same cases.
 */
import { capLedger } from './limits.js'
import type { DecisionPlan, PlanCandidate, PlanCap, Reason, Verdict } from './types.js'
import type { Impression, UserState } from './user-state.js'

/** Drops entries no rule can see any more, and unconfirmed reservations whose lease ran out when they are released. */
export function pruneLedger (ledger: readonly Impression[], plan: DecisionPlan): Impression[] {
  const oldest = plan.now - plan.horizonMs
  return ledger.filter((i) => i.ts >= oldest &&
    !(plan.releaseUnconfirmed && i.state === 'r' && i.ts + plan.leaseMs <= plan.now))
}

const countedBy = (cap: PlanCap, i: Impression): boolean => i.classCode === 'm' && i.ts >= cap.since &&
  (cap.campaignCode === '' || i.campaignCode === cap.campaignCode) && (cap.categoryCode === '' || i.categoryCode === cap.categoryCode) && (cap.placementCode === '' || i.placementCode === cap.placementCode)

function capVerdict (cap: PlanCap, ledger: readonly Impression[], now: number): Verdict | null {
  // Counted first, the times collected only for a cap that is reached: most caps are not (the
  // array per cap per candidate was garbage on every decision).
  let count = 0
  for (const i of ledger) if (countedBy(cap, i)) count++
  if (count < cap.limit) return null
  const counted: number[] = []
  for (const i of ledger) if (countedBy(cap, i)) counted.push(i.ts)
  counted.sort((a, b) => a - b)
  const verdict: Verdict = { reason: 'cap_exceeded', capId: cap.id }
  if (cap.resetAt > 0) {
    verdict.retryMs = cap.resetAt - now
  } else {
    // The (count - limit + 1)-th oldest counted impression must leave the window.
    const leaving = counted[counted.length - cap.limit]
    if (leaving !== undefined) verdict.retryMs = leaving + cap.windowMs - now
  }
  return verdict
}

/** A rule that stops the candidate whatever the mode: consent and complaints. */
function consentVerdict (c: PlanCandidate, state: UserState, now: number): Verdict | null {
  const prefs = state.prefs
  if (prefs !== null) {
    if (c.classCode === 'm' && prefs.marketing === 'off') return { reason: 'opted_out' }
    if (prefs.categoriesOff.includes(c.categoryName)) return { reason: 'opted_out' }
    if (c.classCode === 'm' && prefs.snoozeUntil !== null && prefs.snoozeUntil > now) {
      return { reason: 'opted_out', retryMs: prefs.snoozeUntil - now }
    }
  }
  if (state.fatigue?.complained.includes(c.campaignCode) === true) return { reason: 'fatigue' }
  return null
}

/** A candidate no applied rule stopped, with the first rule in shadow mode that would have; null without one. */
const shadowOnly = (shadow: Verdict['shadow']): Verdict | null => shadow === undefined ? null : { reason: 'eligible', shadow }

/**
 * The frequency rules, in order; in shadow mode or holdout they are reported but not applied. A rule
 * with `"mode": "shadow"` never stops the candidate: the first one that would have is its `shadow`,
 * kept only when no applied rule stops it (what the rule would add).
 */
function frequencyVerdict (c: PlanCandidate, state: UserState, ledger: readonly Impression[], plan: DecisionPlan): Verdict | null {
  if (c.gate !== '') return c.gateRetryMs > 0 ? { reason: c.gate, retryMs: c.gateRetryMs } : { reason: c.gate }
  let shadow: Verdict['shadow'] = c.shadowGate === '' ? undefined : { reason: c.shadowGate }
  const backoff = state.fatigue?.backoffUntil[c.campaignCode]
  if (backoff !== undefined && backoff > plan.now) {
    if (!plan.fatigueShadow) return { reason: 'fatigue', retryMs: backoff - plan.now }
    shadow ??= { reason: 'fatigue' }
  }
  if (c.classCode !== 'm') return shadowOnly(shadow)
  if (plan.cooldownMs > 0) {
    let last = -Infinity
    for (const i of ledger) if (i.classCode === 'm' && i.ts > last) last = i.ts
    if (plan.now - last < plan.cooldownMs) {
      if (!plan.cooldownShadow) return { reason: 'cooldown', retryMs: last + plan.cooldownMs - plan.now }
      shadow ??= { reason: 'cooldown' }
    }
  }
  for (const cap of c.caps) {
    const verdict = capVerdict(cap, ledger, plan.now)
    if (verdict === null) continue
    if (!cap.shadow) return verdict
    shadow ??= { reason: 'cap_exceeded', capId: cap.id }
  }
  return shadowOnly(shadow)
}

function candidateVerdict (c: PlanCandidate, state: UserState, ledger: readonly Impression[], plan: DecisionPlan): Verdict {
  if (c.final !== '') return { reason: c.final }
  if (c.classCode === 'c') return { reason: 'eligible' }
  const consent = consentVerdict(c, state, plan.now)
  if (consent !== null) return consent
  const verdict = frequencyVerdict(c, state, ledger, plan)
  if (verdict === null) return { reason: 'eligible' }
  if (verdict.reason === 'eligible') return verdict
  if (!plan.enforce) verdict.unenforced = true
  return verdict
}

function lastShown (ledger: readonly Impression[], campaignCode: string): number {
  let last = 0
  for (const i of ledger) if (i.campaignCode === campaignCode && i.ts > last) last = i.ts
  return last
}

/** Highest priority; ties to the campaign shown least recently to this user, then to the client's order. */
function arbitrate (plan: DecisionPlan, verdicts: readonly Verdict[], ledger: readonly Impression[]): number {
  let winner = -1
  let winnerLast = 0
  plan.candidates.forEach((c, i) => {
    const v = verdicts[i]
    if (v === undefined || !(v.reason === 'eligible' || v.unenforced === true)) return
    const last = lastShown(ledger, c.campaignCode)
    const best = winner === -1 ? undefined : plan.candidates[winner]
    if (best === undefined || c.priority > best.priority || (c.priority === best.priority && last < winnerLast)) {
      winner = i
      winnerLast = last
    }
  })
  return winner
}

export interface Evaluation {
  winner: number
  verdicts: Verdict[]
  ledger: Impression[]
  /** No consent rule is in force for the user (StoreOutcome.consentClear); false when no candidate needed the user's state. */
  consentClear: boolean
}

/** The twin of decide.lua's `clear`: no opt-out, category opt-out, snooze, complaint or backoff in force. */
function noConsentRule (plan: DecisionPlan, state: UserState): boolean {
  if (!plan.candidates.some((c) => c.final === '' && c.classCode !== 'c')) return false
  const p = state.prefs
  if (p !== null && (p.marketing === 'off' || p.categoriesOff.length > 0 || (p.snoozeUntil !== null && p.snoozeUntil > plan.now))) return false
  const f = state.fatigue
  if (f !== null && (f.complained.length > 0 || Object.values(f.backoffUntil).some((until) => until > plan.now))) return false
  return true
}

export function evaluate (plan: DecisionPlan, state: UserState): Evaluation {
  const ledger = pruneLedger(state.ledger, plan)
  const verdicts = plan.candidates.map((c) => candidateVerdict(c, state, ledger, plan))
  const winner = arbitrate(plan, verdicts, ledger)
  verdicts.forEach((v, i) => {
    if (i !== winner && v.reason === 'eligible') verdicts[i] = v.shadow === undefined ? { reason: 'lower_priority' as Reason } : { reason: 'lower_priority', shadow: v.shadow }
  })
  const shown = plan.candidates[winner]
  if (shown !== undefined) {
    ledger.push({ ts: plan.now, state: 'r', classCode: shown.classCode, campaignCode: shown.campaignCode, categoryCode: shown.categoryCode, placementCode: plan.placementCode, nonce: plan.nonce })
  }
  return { winner, verdicts, ledger: capLedger(ledger), consentClear: noConsentRule(plan, state) }
}
