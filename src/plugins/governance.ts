import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import type { AppConfig } from '../config/config.js'
import type { PolicyFile } from '../rules/policy/schema.js'
import type { GovernanceStore } from '../store/governance-store.js'
import { MemoryGovernanceStore } from '../memory/governance-store.js'
import { PolicySync } from '../services/governance/policy-sync.js'
import { restoreCommit } from '../services/governance/restore.js'
import { RedisGovernanceStore } from '../redis/governance/redis-governance-store.js'
import { GovernanceService } from '../services/governance/governance-service.js'

declare module 'fastify' {
  interface FastifyInstance {
    governance: GovernanceService
  }
}

export function createGovernanceStore (config: AppConfig, log: FastifyBaseLogger): GovernanceStore {
  if (config.redis === null) return new MemoryGovernanceStore()
  return new RedisGovernanceStore(config.redis, {
    ...(config.keyPrefix === undefined ? {} : { keyPrefix: config.keyPrefix }),
    onConnectionError: (err) => log.warn({ err: { message: err.message } }, 'governance redis connection error')
  })
}

export interface GovernanceOptions {
  store: GovernanceStore
  /** The policy file: seeds the store when it holds no policy yet (or always, with `overwrite`). */
  file: PolicyFile
  overwrite: boolean
  clock: () => number
  checkEveryMs: number
}

/**
 * Seeds the store, loads what it holds into `app.policy` and keeps it in step. If the store
 * cannot be read at boot, the file's policy serves (version 0) until the periodic check
 * manages to seed and load. Once loaded, a store that lost its configuration gets back the
 * one this instance loaded (policy-sync.ts); the file seeds only an instance that never loaded.
 */
export async function useGovernance (app: FastifyInstance, opts: GovernanceOptions): Promise<void> {
  const sync = new PolicySync(opts.store, app.policy, app.log,
    async (good, found, why) => await opts.store.commit(restoreCommit(good, found, why, opts.clock())))
  const service = new GovernanceService(opts.store, () => sync.refresh(), opts.clock)
  app.decorate('governance', service)

  let seededOnce = false
  const seedUnlessLoaded = async (): Promise<void> => {
    if (sync.hasLoaded) return
    // POPGUARD_POLICY_OVERWRITE applies to the first seeding only; later tries seed an empty store.
    const overwrite = opts.overwrite && !seededOnce
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
  await sync.watch(opts.checkEveryMs, seedUnlessLoaded)
  app.addHook('onClose', async () => {
    sync.stop()
    await opts.store.close()
  })
}
