import type { CompiledPolicy } from '../policy/compile.js'
import type { ClassCode, DecisionPlan, Verdict } from './types.js'

const CLASS_NAME = { c: 'critical', s: 'service', m: 'marketing' } as const satisfies Record<ClassCode, string>

/**
 * The answer when the store cannot be reached: each class gets the policy's
 * onStoreFailure answer; what is known without the store (unknown or inactive
 * campaigns, do-not-interrupt, quiet hours) still applies. Nothing is recorded.
 */
export function fallbackVerdicts (plan: DecisionPlan, policy: CompiledPolicy): { winner: number, verdicts: Verdict[] } {
  const verdicts: Verdict[] = plan.candidates.map((c) => {
    if (c.final !== '') return { reason: c.final }
    if (c.classCode !== 'c' && c.gate !== '') return c.gateRetryMs > 0 ? { reason: c.gate, retryMs: c.gateRetryMs } : { reason: c.gate }
    return { reason: policy.onStoreFailure[CLASS_NAME[c.classCode]] === 'allow' ? 'eligible' : 'degraded' }
  })
  let winner = -1
  plan.candidates.forEach((c, i) => {
    const best = plan.candidates[winner]
    if (verdicts[i]?.reason === 'eligible' && (best === undefined || c.priority > best.priority)) winner = i
  })
  verdicts.forEach((v, i) => {
    if (i !== winner && v.reason === 'eligible') verdicts[i] = { reason: 'lower_priority' }
  })
  return { winner, verdicts }
}
