import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { MemoryGovernanceStore } from '../memory/governance-store.js'
import { MemoryReportStore } from '../memory/report-store.js'
import { MemoryStore } from '../memory/user-store.js'
import { createRedisClient } from '../redis/connection.js'
import { clientTimeoutFor } from '../redis/deadline.js'
import { RedisGovernanceStore } from '../redis/governance/redis-governance-store.js'
import { RedisReportStore } from '../redis/reports/redis-report-store.js'
import { RedisStore } from '../redis/user-store/redis-user-store.js'
import type { GovernanceStore } from '../store/governance-store.js'
import type { ReportStore } from '../store/report-store.js'
import type { Store } from '../store/user-store.js'
import type { InvalidationBus } from '../store/invalidation-bus.js'
import { MemoryInvalidationBus } from '../memory/invalidation-bus.js'
import { RedisInvalidationBus } from '../redis/invalidation-bus.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Per-user state: the decision path's store. */
    store: Store
    /** Policy, campaigns, penalties and audit. */
    governanceStore: GovernanceStore
    /** The daily report counts. */
    reportStore: ReportStore
    /** Tells every instance a user's cached over-limit facts are out of date. */
    invalidation: InvalidationBus
  }
}

/** How long a start waits for the store's first connection before it goes on, not ready. */
const STORE_CONNECT_WAIT_MS = 3000
/** Report reads and flushes may take longer than a decision: they never sit on the decision path. */
const REPORT_COMMAND_TIMEOUT_MS = 2000

export interface StoresOptions {
  /** Adapters to use instead of the configured ones (tests); closed with the app all the same. */
  store?: Store
  governance?: GovernanceStore
  reportStore?: ReportStore
  invalidation?: InvalidationBus
}

function createUserStore (app: FastifyInstance): Store {
  const { config, log, metrics } = app
  if (config.redis === null) return new MemoryStore(app.clock)
  const timeoutMs = config.redis.commandTimeoutMs
  const client = createRedisClient({ ...config.redis, commandTimeoutMs: clientTimeoutFor(timeoutMs) }, 'decision')
  return new RedisStore(client, {
    ...(config.keyPrefix === undefined ? {} : { keyPrefix: config.keyPrefix }),
    timeoutMs,
    onConnectionError: (err) => log.warn({ err: { message: err.message } }, 'redis connection error'),
    onScriptError: (op, err) => log.error({ op, err: { message: err.message } }, 'store script error: answered by the fallback, circuit unchanged'),
    onBreakerChange: (state) => {
      log.warn({ state }, 'store circuit breaker changed')
      metrics.breakerChanged(state)
    },
    onCall: metrics.storeCall,
    ...(config.waitReplicas === null ? {} : { waitReplicas: config.waitReplicas })
  })
}

function createGovernanceStore (app: FastifyInstance): GovernanceStore {
  const { config, log } = app
  if (config.redis === null) return new MemoryGovernanceStore()
  return new RedisGovernanceStore(config.redis, {
    ...(config.keyPrefix === undefined ? {} : { keyPrefix: config.keyPrefix }),
    onConnectionError: (err) => log.warn({ err: { message: err.message } }, 'governance redis connection error')
  })
}

function createReportStore (app: FastifyInstance): ReportStore {
  const { config } = app
  if (config.redis === null) return new MemoryReportStore()
  const client = createRedisClient({ ...config.redis, commandTimeoutMs: REPORT_COMMAND_TIMEOUT_MS }, 'report')
  client.on('error', () => {}) // the decision store already reports connection trouble
  return new RedisReportStore(client, { keyPrefix: config.keyPrefix, retentionDays: config.reports.retentionDays })
}

function createInvalidationBus (app: FastifyInstance): InvalidationBus {
  const { config, log } = app
  if (config.redis === null) return new MemoryInvalidationBus()
  return new RedisInvalidationBus(config.redis, {
    ...(config.keyPrefix === undefined ? {} : { keyPrefix: config.keyPrefix }),
    onConnectionError: (err) => log.warn({ err: { message: err.message } }, 'invalidation redis connection error')
  })
}

/**
 * The three store adapters, built from the configuration (Redis when REDIS_URL is set, else
 * memory) or given by a test, and closed with the app, after the plugins that use them
 * (onClose hooks run last registered first).
 */
export const storesPlugin = fp<StoresOptions>(async (app, opts) => {
  const store = opts.store ?? createUserStore(app)
  const governanceStore = opts.governance ?? createGovernanceStore(app)
  const reportStore = opts.reportStore ?? createReportStore(app)
  const invalidation = opts.invalidation ?? createInvalidationBus(app)
  app.decorate('store', store)
  app.decorate('governanceStore', governanceStore)
  app.decorate('reportStore', reportStore)
  app.decorate('invalidation', invalidation)
  app.addHook('onClose', async () => {
    const closed = await Promise.allSettled([store.close(), governanceStore.close(), reportStore.close(), invalidation.close()])
    const failed = closed.find((c) => c.status === 'rejected')
    if (failed !== undefined) throw failed.reason
  })
  if (!await store.waitUntilReady(STORE_CONNECT_WAIT_MS)) {
    app.log.warn('store not reachable yet: starting anyway, not ready; decisions follow onStoreFailure until it answers')
  }
}, { name: 'popguard-stores', dependencies: ['popguard-context', 'popguard-metrics'] })
