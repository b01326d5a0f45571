import fp from 'fastify-plugin'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { errorResponses } from '../schemas/common.js'
import { SimulateAnswer, SimulateRequest } from '../schemas/simulate.js'
import { SimulateService } from '../services/simulate/simulate-service.js'

const simulateRoute: FastifyPluginAsyncTypebox = async (app) => {
  const limits = app.config.simulate
  const service = new SimulateService({ clock: app.clock, logFile: limits.logFile, maxUsers: limits.maxUsers, timeoutMs: limits.timeoutMs })
  app.post('/v1/policy/simulate', {
    config: { scope: 'admin' },
    bodyLimit: limits.maxUploadBytes,
    schema: {
      operationId: 'simulatePolicy',
      tags: ['governance'],
      summary: 'Replay recorded decisions under a candidate policy (what-if)',
      description: 'Runs the candidate against an uploaded decision log or the last `hours` of the log file this instance reads, with the rules ' +
        'the service runs, and answers the daily report\'s figures recorded vs candidate. Changes nothing. Bounded in time and in distinct users ' +
        '(`truncated` says when it stopped early); 413 beyond the upload limit, 422 for an invalid candidate (docs/simulator.md).',
      security: [{ apiKey: [] }],
      body: SimulateRequest,
      response: { 200: SimulateAnswer, ...errorResponses(400, 401, 403, 413, 415, 422, 503) }
    }
  }, async (request) => await service.run(request.body))
}
export default fp(simulateRoute, { name: 'popguard-routes-simulate', dependencies: ['popguard-openapi', 'popguard-auth', 'popguard-context'], encapsulate: true })
