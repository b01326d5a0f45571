import { compilePolicy, type CompiledPolicy } from '../../rules/policy/compile.js'
import type { Campaign, Penalty, Policy } from '../../rules/policy/schema.js'

/** Why a stored record was refused when the governance store was read (see src/services/governance/policy-sync.ts). */
export interface RecordRejection {
  at: string
  /** `policy`, `campaign:<id>` or `penalty:<id>`. */
  record: string
  problems: string[]
}

/**
 * How the governance store's configuration compares with what this instance serves:
 * `in_step` (the same), `restoring` (missing or older there: this instance serves its last
 * good one and writes it back), `not_loaded` (nothing read from the store yet: the boot policy serves).
 */
export type StoreStatus = 'in_step' | 'restoring' | 'not_loaded'

/**
 * The policy and campaign registry in force on this instance. The decision path
 * reads `current` only: never the store.
 */
export class PolicyState {
  current: CompiledPolicy
  /** The governance revision `current` was built from; 0 before the store was first read. */
  revision = 0
  /**
   * Stored records refused as invalid since start (each keeps its last good value in force).
   * For metrics: a counter; `lastRejection` says what and why.
   */
  rejectedRecords = 0
  lastRejection: RecordRejection | null = null
  /** Kept by src/services/governance/policy-sync.ts; for /readyz and metrics. */
  storeStatus: StoreStatus = 'not_loaded'
  /** Restores of the stored configuration this instance wrote since start (a counter). */
  restores = 0

  constructor (policy: Policy, campaigns: readonly Campaign[], version = 1) {
    this.current = compilePolicy(policy, campaigns, version)
  }

  replace (policy: Policy, campaigns: readonly Campaign[], version: number, penalties?: ReadonlyMap<string, Penalty>): void {
    this.current = compilePolicy(policy, campaigns, version, penalties)
  }

  rejected (rejection: RecordRejection): void {
    this.rejectedRecords++
    this.lastRejection = rejection
  }
}
