import fp from 'fastify-plugin'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Campaign } from '../rules/policy/schema.js'
import { errorResponses } from '../schemas/common.js'
import {
  AdminWriteHeaders, CampaignIdParams, CampaignPutHeaders, CampaignQuery, CampaignView, IfMatchHeaders, Paged, PenaltyBody
} from '../schemas/governance.js'
import { actorOf, preconditionsOf } from './admin-request.js'

const campaignRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const common = { tags: ['governance'], security: [{ apiKey: [] }] }

  app.get('/v1/campaigns', {
    config: { scope: 'admin' },
    schema: {
      ...common,
      operationId: 'listCampaigns',
      summary: 'The campaign registry, by id, filtered by effective status and category',
      querystring: CampaignQuery,
      response: { 200: Paged(CampaignView, 'Campaigns ordered by id.'), ...errorResponses(400, 401, 403, 503) }
    }
  }, async (request) => app.governance.campaigns(request.query))

  app.get('/v1/campaigns/:id', {
    config: { scope: 'admin' },
    schema: {
      ...common,
      operationId: 'getCampaign',
      summary: 'One campaign, with its penalty if any; `ETag` for a later write',
      params: CampaignIdParams,
      response: { 200: CampaignView, ...errorResponses(400, 401, 403, 404, 503) }
    }
  }, async (request, reply) => {
    const view = await app.governance.campaign(request.params.id)
    return await reply.header('etag', view.etag).send(view)
  })

  app.put('/v1/campaigns/:id', {
    config: { scope: 'admin' },
    schema: {
      ...common,
      operationId: 'putCampaign',
      summary: 'Create or replace a campaign (its penalty, if any, stays)',
      description: 'Validated (priority 0-100, `endsAt` after `startsAt`, a known class); audited; 201 when created. ' +
        'To replace, `If-Match` with the `ETag` read (or `*`); to create, `If-None-Match: *`. Without either 428; 412 when it does not hold.',
      params: CampaignIdParams,
      headers: CampaignPutHeaders,
      body: Campaign,
      response: { 200: CampaignView, 201: CampaignView, ...errorResponses(400, 401, 403, 409, 412, 415, 428, 503) }
    }
  }, async (request, reply) => {
    const pre = preconditionsOf(request, { canCreate: true })
    const { created, view } = await app.governance.putCampaign(request.params.id, request.body, actorOf(request), pre)
    return await reply.code(created ? 201 : 200).header('etag', view.etag).send(view)
  })

  app.delete('/v1/campaigns/:id', {
    config: { scope: 'admin' },
    schema: {
      ...common,
      operationId: 'deleteCampaign',
      summary: 'Remove a campaign and its penalty; it then decides as `campaign_unknown`',
      description: '`If-Match` is required (428 without it): the `ETag` read (412 when it changed since) or `*`.',
      params: CampaignIdParams,
      headers: AdminWriteHeaders,
      response: { 204: { type: 'null', description: 'Deleted.' }, ...errorResponses(400, 401, 403, 404, 409, 412, 428, 503) }
    }
  }, async (request, reply) => {
    await app.governance.deleteCampaign(request.params.id, actorOf(request), preconditionsOf(request))
    return await reply.code(204).send()
  })

  app.post('/v1/campaigns/:id/penalties', {
    config: { scope: 'admin' },
    schema: {
      ...common,
      operationId: 'penalizeCampaign',
      summary: 'Suspend a campaign or limit it with stricter caps, with a reason; replaces any earlier penalty',
      description: '`suspend`: decides as `campaign_inactive`. `limit` (marketing only): its `caps` are added. ' +
        'With `until`, the penalty ends by itself at that time. `If-Match` is required (428 without it): the campaign\'s `ETag` or `*`.',
      params: CampaignIdParams,
      headers: IfMatchHeaders,
      body: PenaltyBody,
      response: { 200: CampaignView, ...errorResponses(400, 401, 403, 404, 409, 412, 415, 428, 503) }
    }
  }, async (request, reply) => {
    const view = await app.governance.applyPenalty(request.params.id, request.body, request.apiKey?.name ?? 'unknown', preconditionsOf(request))
    return await reply.header('etag', view.etag).send(view)
  })

  app.delete('/v1/campaigns/:id/penalties', {
    config: { scope: 'admin' },
    schema: {
      ...common,
      operationId: 'liftPenalty',
      summary: 'Lift the campaign\'s penalty (audited; give the reason in `X-Change-Reason`)',
      description: '`If-Match` is required (428 without it): the campaign\'s `ETag` or `*`.',
      params: CampaignIdParams,
      headers: AdminWriteHeaders,
      response: { 200: CampaignView, ...errorResponses(400, 401, 403, 404, 409, 412, 428, 503) }
    }
  }, async (request, reply) => {
    const view = await app.governance.liftPenalty(request.params.id, actorOf(request), preconditionsOf(request))
    return await reply.header('etag', view.etag).send(view)
  })
}
export default fp(campaignRoutes, { name: 'popguard-routes-campaigns', dependencies: ['popguard-openapi', 'popguard-auth', 'popguard-governance'], encapsulate: true })
