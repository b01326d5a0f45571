import type { DecisionPlan, PlanCap } from '../../rules/decide/types.js'

/**
 * The plan as decide.lua receives it: positional JSON arrays, each distinct cap once.
 * Half the bytes of the plan's object form, and no key strings for cjson to build:
 * decoding the plan was the largest single cost inside the script (docs/benchmark.md).
 *
 * [now, decisionId, nonce, requestId, enforce 0|1, plc, horizonMs, ledgerTtlMs, leaseMs,
 *  releaseUnconfirmed 0|1, cooldownMs, idempotencyTtlMs, echo, caps, candidates, deadline,
 *  cooldownShadow 0|1, fatigueShadow 0|1]
 * caps:       [[id, limit, since, resetAt, windowMs, cmp, cat, plc, shadow 0|1], ...]
 * candidates: [[cls, pri, cmp, cat, catName, final, gate, gateRetryMs, [cap index from 1, ...], shadowGate], ...]
 * deadline:   ms in Redis's clock after which the script records nothing (0: none)
 * Fields added later go at the end of their tuple (per-rule shadow mode: docs/simulator.md).
 */
export function encodePlan (plan: DecisionPlan, deadline = 0): string {
  const caps: PlanCap[] = []
  const byId = new Map<string, number[]>()
  const candidates = plan.candidates.map((c) =>
    [c.classCode, c.priority, c.campaignCode, c.categoryCode, c.categoryName, c.final, c.gate, c.gateRetryMs, c.caps.map((cap) => capIndex(caps, byId, cap)), c.shadowGate])
  return JSON.stringify([
    plan.now, plan.decisionId, plan.nonce, plan.requestId, plan.enforce ? 1 : 0, plan.placementCode, plan.horizonMs,
    plan.ledgerTtlMs, plan.leaseMs, plan.releaseUnconfirmed ? 1 : 0, plan.cooldownMs, plan.idempotencyTtlMs,
    plan.echo, caps.map((k) => [k.id, k.limit, k.since, k.resetAt, k.windowMs, k.campaignCode, k.categoryCode, k.placementCode, k.shadow ? 1 : 0]), candidates, deadline,
    plan.cooldownShadow ? 1 : 0, plan.fatigueShadow ? 1 : 0
  ])
}

/**
 * The cap's 1-based index among the plan's distinct caps, added if new. Looked up by id, then
 * compared field by field (an id is unique only within one list of caps, and a reserve gives one
 * cap a different limit per candidate): no key string is built for every cap of every candidate.
 */
function capIndex (caps: PlanCap[], byId: Map<string, number[]>, cap: PlanCap): number {
  let same = byId.get(cap.id)
  if (same === undefined) {
    same = []
    byId.set(cap.id, same)
  }
  for (const i of same) {
    const k = caps[i - 1] as PlanCap
    if (k === cap || (k.limit === cap.limit && k.since === cap.since && k.resetAt === cap.resetAt &&
      k.windowMs === cap.windowMs && k.campaignCode === cap.campaignCode && k.categoryCode === cap.categoryCode && k.placementCode === cap.placementCode && k.shadow === cap.shadow)) return i
  }
  const i = caps.push(cap)
  same.push(i)
  return i
}
