import fp from 'fastify-plugin'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { errorBody } from '../plugins/errors.js'
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
      summary: 'Readiness: the store answers and a configuration loaded from it is in force',
      description: '503 while the store does not answer, or before this instance has loaded the configuration from it (it would ' +
        'answer by the policy file). 200 with `governance: restoring` while the store has lost its configuration: the instance ' +
        'answers by its last good one, as before the loss (docs/operations.md, "Readiness").',
      response: { 200: Health, ...errorResponses(503) }
    }
  }, async (_request, reply) => {
    try {
      await app.store.ping()
    } catch {
      return reply.code(503).send(errorBody(503, `store (${app.store.kind}) is not reachable`))
    }
    const governance = app.policy.storeStatus
    if (governance === 'not_loaded') {
      return reply.code(503).send(errorBody(503, 'the configuration has not been loaded from the governance store yet'))
    }
    return { status: 'ready', store: app.store.kind, policyVersion: app.policy.current.version, governance }
  })
}
export default fp(healthRoutes, { name: 'popguard-routes-health', dependencies: ['popguard-openapi', 'popguard-stores', 'popguard-governance'], encapsulate: true })
