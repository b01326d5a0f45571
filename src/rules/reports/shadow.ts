/**
 * Rules in shadow mode (`"mode": "shadow"`) in the report: per day and cohort, the `d:<day>` field
 * `cohort|wouldsuppress:<rule>` counts candidates the rule would have suppressed, where the rule is
 * `cap:<cap id>`, `cooldown`, `quiet_hours` or `fatigue` (cap ids: the policy's, never a client's).
 */
import type { StoredDay } from './stored-day.js'

export const WOULD_SUPPRESS = 'wouldsuppress:'

export const shadowRuleKey = (s: { reason: string, capId?: string }): string => s.reason === 'cap_exceeded' ? `cap:${s.capId ?? ''}` : s.reason

/** Both cohorts' counts of a stored day, by rule. */
export function wouldSuppress (day: StoredDay): Record<string, number> {
  const out: Record<string, number> = {}
  for (const [field, n] of Object.entries(day.decisions)) {
    const at = field.indexOf('|' + WOULD_SUPPRESS)
    if (at < 0) continue
    const rule = field.slice(at + 1 + WOULD_SUPPRESS.length)
    out[rule] = (out[rule] ?? 0) + n
  }
  return out
}
