import fp from 'fastify-plugin'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { DecideAnswer, DecideBody } from '../schemas/decide.js'
import { errorResponses } from '../schemas/common.js'

const decideRoute: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/v1/decide', {
    bodyLimit: 64 * 1024,
    config: { scope: 'client', userIdsOf: (request) => [(request.body as DecideBody).userId] },
    schema: {
      operationId: 'decide',
      tags: ['decisions'],
      summary: 'Decide which one of the candidates to show, if any',
      description: 'Checks every rule for every candidate and reserves the impression of the one shown, atomically. ' +
        'A suppressed candidate is a normal answer with its reason, never an error. ' +
        '503 (with `Retry-After`): this instance is overloaded and sheds load: the client shows nothing, as for a timeout.',
      security: [{ apiKey: [] }],
      body: DecideBody,
      response: { 200: DecideAnswer, ...errorResponses(400, 401, 403, 413, 415, 503) }
    }
  }, async (request) => app.decisions.decide(request.body, request.log))
}
export default fp(decideRoute, { name: 'popguard-routes-decide', dependencies: ['popguard-openapi', 'popguard-auth', 'popguard-decisions'], encapsulate: true })
