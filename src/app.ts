import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { AppConfig } from './config/config.js'
import { loadPolicyFile } from './config/policy-file.js'
import { authPlugin } from './plugins/auth.js'
import { corsPlugin } from './plugins/cors.js'
import { endUserTokensPlugin } from './plugins/end-user-token.js'
import { answerClientError, connectionsPlugin, DEFAULT_TIMEOUTS, MAX_PARAM_LENGTH, timeoutOptions, type HttpTimeouts } from './plugins/connections.js'
import { contextPlugin } from './plugins/context.js'
import { answerFrameworkError, errorsPlugin } from './plugins/errors.js'
import { governancePlugin } from './plugins/governance.js'
import { createShedding, loadSheddingPlugin, sheddingServerFactory } from './plugins/load-shedding.js'
import { metricsPlugin, metricsSourcesPlugin } from './plugins/metrics.js'
import { openApiPlugin } from './plugins/openapi.js'
import { reportsPlugin } from './plugins/reports.js'
import { requestIdOptions, requestIdsPlugin } from './plugins/request-id.js'
import { decisionsPlugin, eventsPlugin, usersPlugin } from './plugins/services.js'
import { storesPlugin } from './plugins/stores.js'
import { validationPlugin } from './plugins/validation.js'
import auditRoute from './routes/audit.js'
import campaignRoutes from './routes/campaigns.js'
import decideRoute from './routes/decide.js'
import eventRoutes from './routes/events.js'
import healthRoutes from './routes/health.js'
import policyRoutes from './routes/policy.js'
import simulateRoute from './routes/simulate.js'
import preferenceCenterRoutes from './routes/preference-center.js'
import preferencesPageRoutes from './routes/preferences-page.js'
import reportPageRoutes from './routes/report-page.js'
import reportRoutes from './routes/reports.js'
import userRoutes from './routes/users.js'
import type { PolicyFile } from './rules/policy/schema.js'
import type { GovernanceStore } from './store/governance-store.js'
import type { ReportStore } from './store/report-store.js'
import type { Store } from './store/user-store.js'
import type { InvalidationBus } from './store/invalidation-bus.js'

/** The shipped example policy, found from src/ (tsx, vitest) and from dist/src/ (node). */
export const EXAMPLE_POLICY_FILE = ['../examples/policy.json', '../../examples/policy.json']
  .map((rel) => fileURLToPath(new URL(rel, import.meta.url)))
  .find((path) => existsSync(path)) ?? 'examples/policy.json'

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
  /** An invalidation bus to use instead of the configured one (tests: two apps on one Redis). */
  invalidation?: InvalidationBus
  /** HTTP timeouts (tests shorten them); DEFAULT_TIMEOUTS otherwise. */
  timeouts?: Partial<HttpTimeouts>
  /** How often the governance store's revision is checked (ms): DEFAULT_CHECK_EVERY_MS unless a test needs it sooner. */
  governanceCheckEveryMs?: number
}

async function initialPolicy (config: AppConfig, given: PolicyFile | undefined): Promise<PolicyFile> {
  if (given !== undefined) return given
  return await loadPolicyFile(config.policyFile ?? EXAMPLE_POLICY_FILE)
}

/** Builds a ready app; never listens (the server entry does that). */
export async function buildApp (config: AppConfig, opts: BuildOptions = {}): Promise<FastifyInstance> {
  // Read before anything connects: a broken policy file stops the start with nothing to close.
  const file = await initialPolicy(config, opts.policy)
  const logger = opts.logger ?? false
  const shedding = createShedding(config)
  const app = Fastify({
    // Load shedding decides at the server, before Fastify builds a request (plugins/load-shedding.ts).
    serverFactory: sheddingServerFactory(shedding),
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

  // Top to bottom: each plugin names the ones it needs, and Fastify refuses an order that breaks them.
  await app.register(contextPlugin, { config, clock: opts.clock ?? Date.now })
  await app.register(requestIdsPlugin)
  await app.register(connectionsPlugin)
  await app.register(validationPlugin)
  await app.register(errorsPlugin)
  await app.register(corsPlugin)
  // Before authentication and the end-user token: a shed request costs as little as possible.
  await app.register(authPlugin)
  await app.register(endUserTokensPlugin)
  await app.register(openApiPlugin)
  await app.register(metricsPlugin)
  await app.register(loadSheddingPlugin, shedding)
  await app.register(storesPlugin, { store: opts.store, governance: opts.governance, reportStore: opts.reportStore, invalidation: opts.invalidation })
  await app.register(governancePlugin, { file, checkEveryMs: opts.governanceCheckEveryMs })
  await app.register(decisionsPlugin)
  await app.register(eventsPlugin)
  await app.register(usersPlugin)
  await app.register(reportsPlugin)
  await app.register(metricsSourcesPlugin)

  await app.register(healthRoutes)
  await app.register(decideRoute)
  await app.register(policyRoutes)
  await app.register(simulateRoute)
  await app.register(campaignRoutes)
  await app.register(auditRoute)
  await app.register(eventRoutes)
  await app.register(userRoutes)
  await app.register(reportRoutes)
  await app.register(reportPageRoutes)
  await app.register(preferenceCenterRoutes)
  await app.register(preferencesPageRoutes)
  await app.ready()
  return app
}
