import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { errorResponses, Health } from '../schemas/common.js'

const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/healthz', {
    logLevel: 'warn',
    schema: { operationId: 'healthz', tags: ['operations'], summary: 'Liveness: the process answers (touches nothing)', response: { 200: Health } }
  }, async () => ({ status: 'ok' }))

  app.get('/readyz', {
    logLevel: 'warn',
    schema: {
      operationId: 'readyz',
      tags: ['operations'],
      summary: 'Readiness: the store answers and a policy is loaded',
      response: { 200: Health, ...errorResponses(503) }
    }
  }, async (request, reply) => {
    try {
      await app.store.ping()
    } catch {
      return reply.code(503).send({ error: 'unavailable', message: `store (${app.store.kind}) is not reachable` })
    }
    return { status: 'ready', store: app.store.kind, policyVersion: app.policy.current.version }
  })
}
export default healthRoutes
