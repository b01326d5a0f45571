import type { FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { OtherUserError, UserTokenInvalidError, UserTokenMissingError } from '../errors.js'
import { TokenError, userTokenVerifier } from '../tokens/user-token.js'

export const USER_TOKEN_HEADER = 'x-user-token'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The user ids a request names (body or path), checked against an end-user token's subject. */
    userIdsOf?: (request: FastifyRequest) => readonly string[]
  }
  interface FastifyRequest {
    /** The user the request's end-user token names, when its key requires one. */
    tokenUser: string | null
  }
}

/**
 * Keys configured in POPGUARD_END_USER_TOKENS are public (shipped in apps), so alone they may
 * not ask about, or count against, any user: each request must carry a valid end-user token
 * (401 otherwise), and every user id it names must be the token's subject (403 otherwise).
 * Such a key reaches only operations that name their users. Other keys are not affected.
 */
export const endUserTokensPlugin = fp(async (app) => {
  const rules = app.config.endUserTokens
  if (rules.size === 0) return
  const verifiers = new Map([...rules].map(([name, r]) => [name, userTokenVerifier(r)]))
  app.decorateRequest('tokenUser', null)

  // After the API key's own hook: request.apiKey is known.
  app.addHook('onRequest', (request, _reply, done) => {
    const verify = request.apiKey === null ? undefined : verifiers.get(request.apiKey.name)
    if (verify === undefined) { done(); return }
    const token = request.headers[USER_TOKEN_HEADER]
    if (typeof token !== 'string' || token === '') { done(new UserTokenMissingError()); return }
    verify(token).then((user) => {
      request.tokenUser = user
      done()
    }, (err: unknown) => {
      done(new UserTokenInvalidError(err instanceof TokenError ? err.reason.replaceAll('_', ' ') : 'malformed'))
    })
  })

  // After validation: the body is known to have the shape the route declares.
  app.addHook('preHandler', (request: FastifyRequest, _reply, done) => {
    if (request.tokenUser === null) { done(); return }
    const userIdsOf = request.routeOptions.config.userIdsOf
    if (userIdsOf === undefined) { done(new OtherUserError('this API key requires end-user tokens: it may only call operations about the token\'s user')); return }
    if (userIdsOf(request).some((id) => id !== request.tokenUser)) { done(new OtherUserError('the request names a user other than the end-user token\'s')); return }
    done()
  })
}, { name: 'popguard-end-user-tokens', dependencies: ['popguard-context', 'popguard-auth'] })
