import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import type { Metrics } from '../metrics/metrics.js'
import type { RedisStore } from '../redis/user-store/redis-user-store.js'

/** Requests no route matched share one label: their raw URLs may carry user ids. */
const UNMATCHED = 'unmatched'

/**
 * Feeds the app's metrics (decisions, HTTP requests, gauges read at scrape time) and
 * serves them on `GET /metrics`, without a key, in the Prometheus text format.
 */
export async function useMetrics (app: FastifyInstance, metrics: Metrics): Promise<void> {
  metrics.readFrom({
    policyVersion: () => app.policy.current.version,
    rejectedPolicyRecords: () => app.policy.rejectedRecords,
    governance: () => ({ inStep: app.policy.storeStatus === 'in_step', restores: app.policy.restores }),
    breakerState: () => (app.store as Partial<RedisStore>).breaker?.state ?? null,
    storeKind: () => app.store.kind,
    // Read at scrape time: the reports service is decorated after this plugin.
    pendingReportUsers: () => app.hasDecorator('reports') ? app.reports.pendingUsers() : 0
  })
  app.decisions.onDecision(metrics.decision)
  app.events.onEvent(metrics.event)

  app.addHook('onResponse', (request, reply, done) => {
    metrics.httpRequest(request.method, request.routeOptions.url ?? UNMATCHED, reply.statusCode, reply.elapsedTime / 1000)
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
}
