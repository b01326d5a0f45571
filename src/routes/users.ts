import fp from 'fastify-plugin'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import type { FastifyRequest } from 'fastify'
import { errorResponses } from '../schemas/common.js'
import { PreferencesAnswer, PreferencesBody, UserParams } from '../schemas/preferences.js'
import { PreferenceHistory } from '../schemas/preference-center.js'
import { errorBody } from '../plugins/errors.js'
import { KeyedTokenBucket } from '../plugins/token-bucket.js'

/** The user a preferences route is about, for end-user tokens. */
const userOfPath = (request: FastifyRequest): string[] => [(request.params as { userId: string }).userId]

const userRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const eraseLimit = new KeyedTokenBucket(app.config.eraseRate)

  app.get('/v1/users/:userId/preferences', {
    config: { scope: 'preferences', userIdsOf: userOfPath },
    schema: {
      operationId: 'getPreferences',
      tags: ['users'],
      summary: 'Read a user\'s marketing preferences',
      security: [{ apiKey: [] }],
      params: UserParams,
      response: { 200: PreferencesAnswer, ...errorResponses(400, 401, 403, 503) }
    }
  }, async (request) => app.users.preferences(request.params.userId))

  app.put('/v1/users/:userId/preferences', {
    bodyLimit: 16 * 1024,
    config: { scope: 'preferences', userIdsOf: userOfPath },
    schema: {
      operationId: 'putPreferences',
      tags: ['users'],
      summary: 'Replace a user\'s marketing preferences',
      description: 'Takes effect on the next decision. Critical messages are never suppressed by preferences; service messages only by their own category.',
      security: [{ apiKey: [] }],
      params: UserParams,
      body: PreferencesBody,
      response: { 200: PreferencesAnswer, ...errorResponses(400, 401, 403, 413, 415, 503) }
    }
  }, async (request) => app.users.setPreferences(request.params.userId, request.body, { via: 'api', key: request.apiKey?.name ?? 'unknown' }))

  app.get('/v1/users/:userId/preferences/history', {
    config: { scope: 'preferences', userIdsOf: userOfPath },
    schema: {
      operationId: 'getPreferenceHistory',
      tags: ['users'],
      summary: 'Read a user\'s preference changes',
      description: 'Every change of the user\'s preferences, newest first (at most 100): when, what, and whether the user made it on the preference centre or an app through the API. Erased with the user.',
      security: [{ apiKey: [] }],
      params: UserParams,
      response: { 200: PreferenceHistory, ...errorResponses(400, 401, 403, 503) }
    }
  }, async (request) => ({ changes: await app.users.history(request.params.userId) }))

  app.delete('/v1/users/:userId', {
    config: { scope: 'preferences', userIdsOf: userOfPath },
    schema: {
      operationId: 'eraseUser',
      tags: ['users'],
      summary: 'Erase a user',
      description: 'Removes every key of the user: impressions, preferences, fatigue, idempotency records. Afterwards the user is as new. ' +
        'Each API key may erase at most POPGUARD_ERASE_RATE users a second on each instance; beyond, 429 with `Retry-After`.',
      security: [{ apiKey: [] }],
      params: UserParams,
      response: { 204: Type.Null({ description: 'Erased (also when nothing was stored).' }), ...errorResponses(400, 401, 403, 429, 503) }
    }
  }, async (request, reply) => {
    const waitMs = eraseLimit.take(request.apiKey?.name ?? '')
    if (waitMs > 0) {
      const seconds = Math.ceil(waitMs / 1000)
      return reply.code(429).header('retry-after', String(seconds))
        .send(errorBody(429, `this API key reached its erasure rate (${app.config.eraseRate} a second); retry in ${seconds} s`))
    }
    await app.users.erase(request.params.userId)
    return reply.code(204).send(null)
  })
}
export default fp(userRoutes, { name: 'popguard-routes-users', dependencies: ['popguard-openapi', 'popguard-auth', 'popguard-context', 'popguard-users'], encapsulate: true })
