import { compilePolicy, type CompiledPolicy } from './compile.js'
import type { Campaign, Policy } from './schema.js'

/**
 * The policy and campaign registry in force on this instance. The decision path
 * reads `current` only: never the store.
 */
export class PolicyState {
  current: CompiledPolicy
  readonly loadedAt = Date.now()

  constructor (policy: Policy, campaigns: readonly Campaign[], version = 1) {
    this.current = compilePolicy(policy, campaigns, version)
  }

  replace (policy: Policy, campaigns: readonly Campaign[], version: number): void {
    this.current = compilePolicy(policy, campaigns, version)
  }
}
