import fp from 'fastify-plugin'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { errorResponses } from '../schemas/common.js'
import { AuditItem, Paged, Paging } from '../schemas/governance.js'

const auditRoute: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/v1/audit', {
    config: { scope: 'admin' },
    schema: {
      operationId: 'getAudit',
      tags: ['governance'],
      summary: 'Every policy, campaign and penalty change, newest first: when, which key, what, why, before and after',
      security: [{ apiKey: [] }],
      querystring: Paging,
      response: { 200: Paged(AuditItem, 'Changes, newest first (the last 10,000 are kept).'), ...errorResponses(400, 401, 403, 503) }
    }
  }, async (request) => app.governance.audit(request.query.offset, request.query.limit))
}
export default fp(auditRoute, { name: 'popguard-routes-audit', dependencies: ['popguard-openapi', 'popguard-auth', 'popguard-governance'], encapsulate: true })
