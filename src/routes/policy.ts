import fp from 'fastify-plugin'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Policy } from '../rules/policy/schema.js'
import { errorResponses } from '../schemas/common.js'
import { policyEtag } from '../services/governance/preconditions.js'
import { AdminWriteHeaders, Paged, Paging, PolicyHistoryItem, StoredPolicyBody } from '../schemas/governance.js'
import { actorOf, preconditionsOf } from './admin-request.js'

const policyRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/v1/policy', {
    config: { scope: 'admin' },
    schema: {
      operationId: 'getPolicy',
      tags: ['governance'],
      summary: 'The policy in force, with its version (also the ETag)',
      security: [{ apiKey: [] }],
      response: { 200: StoredPolicyBody, ...errorResponses(401, 403, 503) }
    }
  }, async (_request, reply) => {
    const stored = await app.governance.policy()
    return await reply.header('etag', policyEtag(stored.version)).send(stored)
  })

  app.put('/v1/policy', {
    config: { scope: 'admin' },
    schema: {
      operationId: 'putPolicy',
      tags: ['governance'],
      summary: 'Replace the whole policy document',
      description: 'Validated field by field; an invalid document changes nothing. Stored as a new version, audited, ' +
        'and in force on every instance within a second. `If-Match` is required (428 without it): the `ETag` read, ' +
        'refused (412) unless that version is still current, or `*`.',
      security: [{ apiKey: [] }],
      headers: AdminWriteHeaders,
      body: Policy,
      response: { 200: StoredPolicyBody, ...errorResponses(400, 401, 403, 409, 412, 415, 428, 503) }
    }
  }, async (request, reply) => {
    const stored = await app.governance.putPolicy(request.body, actorOf(request), preconditionsOf(request))
    return await reply.header('etag', policyEtag(stored.version)).send(stored)
  })

  app.get('/v1/policy/history', {
    config: { scope: 'admin' },
    schema: {
      operationId: 'getPolicyHistory',
      tags: ['governance'],
      summary: 'Every policy version, newest first: when, by which key, what changed, the document',
      security: [{ apiKey: [] }],
      querystring: Paging,
      response: { 200: Paged(PolicyHistoryItem, 'Policy versions, newest first.'), ...errorResponses(400, 401, 403, 503) }
    }
  }, async (request) => app.governance.history(request.query.offset, request.query.limit))
}
export default fp(policyRoutes, { name: 'popguard-routes-policy', dependencies: ['popguard-openapi', 'popguard-auth', 'popguard-governance'], encapsulate: true })
