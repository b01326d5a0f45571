import type { DecisionPlan, PlanCap } from '../decision/types.js'

/**
 * The plan as decide.lua receives it: positional JSON arrays, each distinct cap once.
 * Half the bytes of the plan's object form, and no key strings for cjson to build:
 * decoding the plan was the largest single cost inside the script (docs/benchmark.md).
 *
 * [now, decisionId, nonce, requestId, enforce 0|1, plc, horizonMs, ledgerTtlMs, leaseMs,
 *  releaseUnconfirmed 0|1, cooldownMs, idempotencyTtlMs, echo, caps, candidates]
 * caps:       [[id, limit, since, resetAt, windowMs, cmp, cat, plc], ...]
 * candidates: [[cls, pri, cmp, cat, catName, final, gate, gateRetryMs, [cap index from 1, ...]], ...]
 */
export function encodePlan (plan: DecisionPlan): string {
  const caps: (string | number)[][] = []
  const index = new Map<string, number>()
  const capRef = (cap: PlanCap): number => {
    const key = `${cap.id}\0${cap.limit}\0${cap.since}\0${cap.resetAt}\0${cap.cmp}\0${cap.cat}\0${cap.plc}`
    let i = index.get(key)
    if (i === undefined) {
      i = caps.push([cap.id, cap.limit, cap.since, cap.resetAt, cap.windowMs, cap.cmp, cap.cat, cap.plc])
      index.set(key, i)
    }
    return i
  }
  const candidates = plan.candidates.map((c) =>
    [c.cls, c.pri, c.cmp, c.cat, c.catName, c.final, c.gate, c.gateRetryMs, c.caps.map(capRef)])
  return JSON.stringify([
    plan.now, plan.decisionId, plan.nonce, plan.requestId, plan.enforce ? 1 : 0, plan.plc, plan.horizonMs,
    plan.ledgerTtlMs, plan.leaseMs, plan.releaseUnconfirmed ? 1 : 0, plan.cooldownMs, plan.idempotencyTtlMs,
    plan.echo, caps, candidates
  ])
}
