import fp from 'fastify-plugin'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { errorResponses } from '../schemas/common.js'
import { EventsAnswer, EventsBody } from '../schemas/events.js'

const eventRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/v1/events', {
    bodyLimit: 256 * 1024,
    config: { scope: 'client', userIdsOf: (request) => (request.body as EventsBody).events.map((e) => e.userId) },
    schema: {
      operationId: 'recordEvents',
      tags: ['events'],
      summary: 'Report what happened to decided pop-ups',
      description: 'Each user\'s events are applied atomically, in order. Events that name no decision of that user are rejected ' +
        'one by one with a reason; the same event twice counts once, so a whole batch may be sent again safely.',
      security: [{ apiKey: [] }],
      body: EventsBody,
      response: { 202: EventsAnswer, ...errorResponses(400, 401, 403, 413, 415, 503) }
    }
  }, async (request, reply) => reply.code(202).send(await app.events.record(request.body.events)))
}
export default fp(eventRoutes, { name: 'popguard-routes-events', dependencies: ['popguard-openapi', 'popguard-auth', 'popguard-events'], encapsulate: true })
