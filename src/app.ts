import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { AppConfig } from './config/config.js'
import { userTagger } from './rules/decide/codes.js'
import { DecisionService } from './services/decide/decision-service.js'
import type { GovernanceStore } from './store/governance-store.js'
import { DEFAULT_CHECK_EVERY_MS } from './services/governance/policy-sync.js'
import { createGovernanceStore, useGovernance } from './plugins/governance.js'
import { EventService } from './services/events/event-service.js'
import { pseudonymizer } from './log/pseudonym.js'
import { buildInfo } from './metrics/build-info.js'
import { Metrics } from './metrics/metrics.js'
import { useApiKeys } from './plugins/auth.js'
import { useCors } from './plugins/cors.js'
import { useEndUserTokens } from './plugins/end-user-token.js'
import { answerClientError, DEFAULT_TIMEOUTS, MAX_PARAM_LENGTH, timeoutOptions, useConnectionGates, type HttpTimeouts } from './plugins/connections.js'
import { answerFrameworkError, useErrorShape } from './plugins/errors.js'
import { useMetrics } from './plugins/metrics.js'
import { useOpenApi } from './plugins/openapi.js'
import { requestIdOptions, useRequestIds } from './plugins/request-id.js'
import { useStrictValidation } from './plugins/validation.js'
import { loadPolicyFile } from './config/policy-file.js'
import { PolicyState } from './services/governance/policy-state.js'
import type { PolicyFile } from './rules/policy/schema.js'
import auditRoute from './routes/audit.js'
import campaignRoutes from './routes/campaigns.js'
import decideRoute from './routes/decide.js'
import eventRoutes from './routes/events.js'
import healthRoutes from './routes/health.js'
import policyRoutes from './routes/policy.js'
import reportPageRoutes from './routes/report-page.js'
import reportRoutes from './routes/reports.js'
import userRoutes from './routes/users.js'
import { createReportStore, useReports } from './plugins/reports.js'
import type { ReportStore } from './store/report-store.js'
import { MemoryStore } from './memory/user-store.js'
import { createRedisClient } from './redis/connection.js'
import { clientTimeoutFor } from './redis/deadline.js'
import { RedisStore } from './redis/user-store/redis-user-store.js'
import type { Store } from './store/user-store.js'
import { UserService } from './services/users/user-service.js'

declare module 'fastify' {
  interface FastifyInstance {
    config: AppConfig
    store: Store
    policy: PolicyState
    decisions: DecisionService
    events: EventService
    users: UserService
  }
}

/** The shipped example policy, found from src/ (tsx, vitest) and from dist/src/ (node). */
export const EXAMPLE_POLICY_FILE = ['../examples/policy.json', '../../examples/policy.json']
  .map((rel) => fileURLToPath(new URL(rel, import.meta.url)))
  .find((path) => existsSync(path)) ?? 'examples/policy.json'

/** How long a start waits for the store's first connection before it goes on, not ready. */
const STORE_CONNECT_WAIT_MS = 3000

export interface BuildOptions {
  logger?: FastifyServerOptions['logger'] | FastifyServerOptions['loggerInstance']
  /** A policy document to use instead of the configured file (tests). */
  policy?: PolicyFile
  /** A store to use instead of the configured one (tests); the app closes it on close. */
  store?: Store
  /** The decision clock (tests that span days); Date.now otherwise. */
  clock?: () => number
  /** A governance store to use instead of the configured one (tests); the app closes it on close. */
  governance?: GovernanceStore
  /** A report store to use instead of the configured one (tests); the app closes it on close. */
  reportStore?: ReportStore
  /** HTTP timeouts (tests shorten them); DEFAULT_TIMEOUTS otherwise. */
  timeouts?: Partial<HttpTimeouts>
  /** How often the governance store's revision is checked (ms): DEFAULT_CHECK_EVERY_MS unless a test needs it sooner. */
  governanceCheckEveryMs?: number
}

function createStore (config: AppConfig, log: FastifyBaseLogger, metrics: Metrics): Store {
  if (config.redis === null) return new MemoryStore()
  const timeoutMs = config.redis.commandTimeoutMs
  const client = createRedisClient({ ...config.redis, commandTimeoutMs: clientTimeoutFor(timeoutMs) })
  return new RedisStore(client, {
    ...(config.keyPrefix === undefined ? {} : { keyPrefix: config.keyPrefix }),
    timeoutMs,
    onConnectionError: (err) => log.warn({ err: { message: err.message } }, 'redis connection error'),
    onScriptError: (op, err) => log.error({ op, err: { message: err.message } }, 'store script error: answered by the fallback, circuit unchanged'),
    onBreakerChange: (state) => {
      log.warn({ state }, 'store circuit breaker changed')
      metrics.breakerChanged(state)
    },
    onCall: metrics.storeCall
  })
}

async function initialPolicy (config: AppConfig, given: PolicyFile | undefined): Promise<PolicyFile> {
  if (given !== undefined) return given
  return await loadPolicyFile(config.policyFile ?? EXAMPLE_POLICY_FILE)
}

/** Builds a ready app; never listens (the server entry does that). */
export async function buildApp (config: AppConfig, opts: BuildOptions = {}): Promise<FastifyInstance> {
  const logger = opts.logger ?? false
  const app = Fastify({
    ...(typeof logger === 'object' && logger !== null && 'child' in logger ? { loggerInstance: logger } : { logger }),
    // Fastify's own request lines carry raw URLs, and URLs carry user ids.
    logController: new LogController({ disableRequestLogging: true }),
    ...requestIdOptions,
    bodyLimit: 256 * 1024,
    ...timeoutOptions({ ...DEFAULT_TIMEOUTS, ...opts.timeouts }),
    // So that a user id of any valid length reaches its schema (400 naming the field), not the router.
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // Errors raised before routing, below HTTP and while closing answer in the one error shape too.
    frameworkErrors: answerFrameworkError,
    clientErrorHandler: answerClientError,
    return503OnClosing: false
  }).withTypeProvider<TypeBoxTypeProvider>()

  useRequestIds(app)
  useConnectionGates(app)
  useStrictValidation(app)
  useErrorShape(app)
  await useCors(app, config.endUserTokens)
  useApiKeys(app, config.apiKeys)
  useEndUserTokens(app, config.endUserTokens)
  await useOpenApi(app)

  const metrics = new Metrics(buildInfo(config.commit))
  const file = await initialPolicy(config, opts.policy)
  const store = opts.store ?? createStore(config, app.log, metrics)
  if (!await store.waitUntilReady(STORE_CONNECT_WAIT_MS)) {
    app.log.warn('store not reachable yet: starting anyway, not ready; decisions follow onStoreFailure until it answers')
  }
  app.decorate('config', config)
  app.decorate('store', store)
  // Version 0 until the governance store has been read: from then on the store is the source of truth.
  app.decorate('policy', new PolicyState(file.policy, file.campaigns, 0))
  await useGovernance(app, {
    store: opts.governance ?? createGovernanceStore(config, app.log),
    file,
    overwrite: config.policyOverwrite,
    clock: opts.clock ?? Date.now,
    checkEveryMs: opts.governanceCheckEveryMs ?? DEFAULT_CHECK_EVERY_MS
  })
  const pseudonym = pseudonymizer(config.logKey)
  const userTag = userTagger(config.userKey)
  app.decorate('decisions', new DecisionService({
    store,
    policy: () => app.policy.current,
    logger: app.log,
    pseudonym,
    userTag,
    clock: opts.clock ?? Date.now
  }))
  app.decorate('events', new EventService({ store, policy: () => app.policy.current, logger: app.log, userTag, clock: opts.clock ?? Date.now }))
  app.decorate('users', new UserService({ store, logger: app.log, pseudonym, userTag, clock: opts.clock ?? Date.now }))
  app.addHook('onClose', async () => { await store.close() })
  await useMetrics(app, metrics)
  useReports(app, {
    store: opts.reportStore ?? createReportStore(config),
    flushEveryMs: config.reports.flushEveryMs,
    maxPendingUsers: config.reports.maxPendingUsers,
    onUsersDropped: metrics.reportUsersDropped,
    clock: opts.clock ?? Date.now
  })

  await app.register(healthRoutes)
  await app.register(decideRoute)
  await app.register(policyRoutes)
  await app.register(campaignRoutes)
  await app.register(auditRoute)
  await app.register(eventRoutes)
  await app.register(userRoutes)
  await app.register(reportRoutes)
  await app.register(reportPageRoutes)
  await app.ready()
  return app
}
