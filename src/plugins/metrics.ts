import { Type } from '@sinclair/typebox'
import fp from 'fastify-plugin'
import { buildInfo } from '../metrics/build-info.js'
import { Metrics, UNMATCHED_ROUTE } from '../metrics/metrics.js'

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Metrics
  }
}

/**
 * The app's metrics registry (the stores and services below feed it), the HTTP request
 * metrics, and `GET /metrics`, without a key, in the Prometheus text format.
 */
export const metricsPlugin = fp(async (app) => {
  const metrics = new Metrics(buildInfo(app.config.commit))
  app.decorate('metrics', metrics)

  app.addHook('onResponse', (request, reply, done) => {
    metrics.httpRequest(request.method, request.routeOptions.url ?? UNMATCHED_ROUTE, reply.statusCode, reply.elapsedTime / 1000)
    done()
  })

  app.get('/metrics', {
    logLevel: 'warn',
    schema: {
      operationId: 'metrics',
      tags: ['operations'],
      summary: 'Prometheus metrics of this instance (text exposition format)',
      response: {
        200: {
          description: 'The metrics, in the Prometheus text format 0.0.4.',
          content: { 'text/plain': { schema: Type.String() } }
        }
      }
    }
  }, async (_request, reply) => {
    const body = await metrics.registry.metrics()
    return reply.type(metrics.registry.contentType).send(body)
  })
}, { name: 'popguard-metrics', dependencies: ['popguard-context', 'popguard-openapi'] })

/** Once every service exists: decisions and events are counted, gauges read at scrape time. */
export const metricsSourcesPlugin = fp(async (app) => {
  app.metrics.readFrom({
    policyVersion: () => app.policy.current.version,
    rejectedPolicyRecords: () => app.policy.rejectedRecords,
    governance: () => ({ inStep: app.policy.storeStatus === 'in_step', restores: app.policy.restores }),
    breakerState: () => app.store.breaker?.state ?? null,
    storeKind: () => app.store.kind,
    pendingReportUsers: () => app.reports.pendingUsers(),
    overLimitEntries: () => app.overLimitCache?.size ?? 0
  })
  app.decisions.onDecision(app.metrics.decision)
  app.events.onEvent(app.metrics.event)
}, {
  name: 'popguard-metrics-sources',
  dependencies: ['popguard-metrics', 'popguard-stores', 'popguard-governance', 'popguard-decisions', 'popguard-events', 'popguard-reports']
})
