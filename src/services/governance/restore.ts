import { hostname } from 'node:os'
import { changedPaths } from './diff.js'
import type { Campaign, Penalty } from '../../rules/policy/schema.js'
import { POLICY_FIELD, type GovCommit, type GovSnapshot, type GovWrite, type StoredPolicy } from '../../store/governance-store.js'

export const RESTORE_ACTOR = 'restore'

/** A record as loaded: its value, and its raw JSON, which a restore writes back unchanged. */
export interface Kept<T> { value: T, raw: string }

/** The configuration an instance last loaded from the store (each record's last good value). */
export interface LoadedConfig {
  revision: number
  policy: Kept<StoredPolicy>
  campaigns: ReadonlyMap<string, Kept<Campaign>>
  penalties: ReadonlyMap<string, Kept<Penalty>>
}

/** Writes `good` back over what the store was found to hold; true when this instance's write won. */
export type Restorer = (good: LoadedConfig, found: GovSnapshot, why: string) => Promise<boolean>

/** What the store held, as far as it can be read: it may be anything after a fault. */
function readable (raw: string | null): { version: number | null, document: unknown } {
  try {
    const stored = raw === null ? null : JSON.parse(raw) as Partial<StoredPolicy> | null
    return { version: typeof stored?.version === 'number' ? stored.version : null, document: stored?.document }
  } catch {
    return { version: null, document: undefined }
  }
}

/**
 * The commit that writes an instance's last good configuration back over what the store was
 * found to hold (`found`), as it was loaded: policy, campaigns and penalties, nothing else.
 * It expects the revision and the policy record read, so when several instances restore at
 * once exactly one commit applies; the others fail the compare-and-set and read the winner's.
 * The revision continues from the highest one known, never lower than an instance loaded.
 */
export function restoreCommit (good: LoadedConfig, found: GovSnapshot, why: string, now: number): GovCommit {
  const at = new Date(now).toISOString()
  const policy = good.policy.value
  const reason = `${why}; restored from the last good configuration of ${hostname()} (revision ${good.revision}). ` +
    'Audit entries and policy history written before the loss cannot be restored.'
  const revision = Math.max(found.revision, good.revision) + 1
  const before = readable(found.policy)
  const writes: GovWrite[] = [
    { table: 'policy', id: POLICY_FIELD, expect: found.policy ?? '', value: good.policy.raw },
    ...[...good.campaigns].map(([id, c]): GovWrite => ({ table: 'campaigns', id, value: c.raw })),
    ...[...good.penalties].map(([id, p]): GovWrite => ({ table: 'penalties', id, value: p.raw }))
  ]
  return {
    writes,
    replace: true,
    expectRevision: found.revision,
    revisionAtLeast: good.revision,
    audit: [{
      at,
      by: RESTORE_ACTOR,
      action: 'governance.restore',
      target: 'governance',
      reason,
      before: { revision: found.revision, policyVersion: before.version, campaigns: found.campaigns.size, penalties: found.penalties.size },
      after: { revision, policyVersion: policy.version, campaigns: good.campaigns.size, penalties: good.penalties.size },
      changes: changedPaths(before.document, policy.document)
    }],
    history: { version: policy.version, at, by: RESTORE_ACTOR, reason, changes: [], document: policy.document }
  }
}
