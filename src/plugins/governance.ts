import fp from 'fastify-plugin'
import type { PolicyFile } from '../rules/policy/schema.js'
import { GovernanceService } from '../services/governance/governance-service.js'
import { PolicyState } from '../services/governance/policy-state.js'
import { DEFAULT_CHECK_EVERY_MS, PolicySync } from '../services/governance/policy-sync.js'
import { restoreCommit } from '../services/governance/restore.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The policy and registry in force on this instance: the decision path reads it, never the store. */
    policy: PolicyState
    governance: GovernanceService
  }
}

export interface GovernanceOptions {
  /** The policy file: seeds the store when it holds no policy yet (or always, with POPGUARD_POLICY_OVERWRITE). */
  file: PolicyFile
  /** How often the store's revision is checked (ms). */
  checkEveryMs?: number
}

/**
 * Seeds the governance store, loads what it holds into `app.policy` and keeps it in step. If the
 * store cannot be read at boot, the file's policy serves (version 0) until the periodic check
 * manages to seed and load. Once loaded, a store that lost its configuration gets back the
 * one this instance loaded (policy-sync.ts); the file seeds only an instance that never loaded.
 */
export const governancePlugin = fp<GovernanceOptions>(async (app, opts) => {
  const { clock } = app
  const store = app.governanceStore
  // Version 0 until the governance store has been read: from then on the store is the source of truth.
  const policy = new PolicyState(opts.file.policy, opts.file.campaigns, 0)
  app.decorate('policy', policy)
  const sync = new PolicySync(store, policy, app.log,
    async (good, found, why) => await store.commit(restoreCommit(good, found, why, clock())))
  const service = new GovernanceService(store, () => sync.refresh(), clock)
  app.decorate('governance', service)

  let seededOnce = false
  const seedUnlessLoaded = async (): Promise<void> => {
    if (sync.hasLoaded) return
    // POPGUARD_POLICY_OVERWRITE applies to the first seeding only; later tries seed an empty store.
    const overwrite = app.config.policyOverwrite && !seededOnce
    const outcome = await service.seed(opts.file, overwrite)
    const first = !seededOnce
    seededOnce = true
    if (outcome === 'kept' && !first) return
    app.log.info({ outcome, overwrite }, outcome === 'seeded'
      ? 'governance: the policy file seeded the store'
      : 'governance: the store already holds a policy; it stays the source of truth (the file is not applied)')
  }
  try {
    await seedUnlessLoaded()
    await sync.refresh()
  } catch (err) {
    app.log.warn({ err: { message: (err as Error).message } }, 'governance: store not readable at boot; serving the policy file until it is')
  }
  await sync.watch(opts.checkEveryMs ?? DEFAULT_CHECK_EVERY_MS, seedUnlessLoaded)
  app.addHook('onClose', async () => { sync.stop() })
}, { name: 'popguard-governance', dependencies: ['popguard-context', 'popguard-stores'] })
