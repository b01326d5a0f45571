/**
 * A candidate policy document: the shape of POPGUARD_POLICY_FILE (`{policy, campaigns}`), plus an
 * optional `penalties` map (campaign id → `{action, reason, until, caps}`) to try a compliance
 * penalty before applying it. Pure: validated whole, compiled as the service compiles its policy.
 */
import { compilePolicy, type CompiledPolicy } from '../rules/policy/compile.js'
import type { Penalty, PolicyFile } from '../rules/policy/schema.js'
import { penaltyErrors, policyFileErrors, type FieldError } from '../rules/policy/validate.js'

export type CandidateResult = { policy: CompiledPolicy, errors?: undefined } | { policy?: undefined, errors: FieldError[] }

/** Penalties given without `at`/`by` (they are not applied, only tried) get these. */
const TRIED = { at: '1970-01-01T00:00:00Z', by: 'simulation' }

export function compileCandidate (value: unknown): CandidateResult {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { errors: [{ path: '/', message: 'must be a {policy, campaigns} object' }] }
  const { penalties, ...file } = value as Record<string, unknown>
  const errors = policyFileErrors(file)
  const tried = new Map<string, Penalty>()
  if (penalties !== undefined) {
    if (penalties === null || typeof penalties !== 'object' || Array.isArray(penalties)) {
      errors.push({ path: '/penalties', message: 'must be an object: campaign id → penalty' })
    } else {
      for (const [id, p] of Object.entries(penalties)) {
        const penalty = { ...TRIED, ...(p as object) }
        const problems = penaltyErrors(penalty, `/penalties/${id}`)
        if (problems.length > 0) errors.push(...problems)
        else tried.set(id, penalty as Penalty)
      }
    }
  }
  if (errors.length > 0) return { errors }
  const doc = file as PolicyFile
  return { policy: compilePolicy(doc.policy, doc.campaigns, 0, tried) }
}
