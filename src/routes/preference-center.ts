import fp from 'fastify-plugin'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { LinkTokenInvalidError, LinkTokenMissingError, NotFoundError } from '../errors.js'
import { ValidationError } from '../rules/errors.js'
import { SNOOZE_DAYS } from '../rules/users/preference-center.js'
import { DAY_MS } from '../rules/time.js'
import { errorResponses } from '../schemas/common.js'
import { CategoryBody, CategoryParams, CenterQuery, CenterView, MarketingBody, SnoozeBody, type PageLanguage } from '../schemas/preference-center.js'
import { TokenError, userTokenVerifier } from '../tokens/user-token.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route is the preference centre's: a link token names its user, no API key is taken. */
    linkToken?: boolean
  }
  interface FastifyRequest {
    /** The user the preference link names. */
    linkUser: string | null
  }
}

const bearer = (header: string | undefined): string | null => /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')?.[1] ?? null

/**
 * The preference centre's JSON: what the page reads and changes. The only credential is the
 * link token an app's backend signed for one user (POPGUARD_PREFERENCE_LINKS); it names the user,
 * so no route takes a user id and no API key ever reaches the browser. Each change is stored at
 * once (the next decision sees it), recorded in the user's history and counted in the reports.
 */
const preferenceCenterRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const rules = app.config.preferenceLinks
  const verify = rules === null ? null : userTokenVerifier(rules)
  app.decorateRequest('linkUser', null)
  app.addHook('onRequest', (request, _reply, done) => {
    if (verify === null) { done(new NotFoundError('the preference centre is not configured (POPGUARD_PREFERENCE_LINKS)')); return }
    const token = bearer(request.headers.authorization)
    if (token === null) { done(new LinkTokenMissingError()); return }
    verify(token).then((user) => {
      request.linkUser = user
      done()
    }, (err: unknown) => {
      done(new LinkTokenInvalidError(err instanceof TokenError ? err.reason.replaceAll('_', ' ') : 'malformed'))
    })
  })
  const userOf = (request: { linkUser: string | null }): string => request.linkUser as string
  const view = async (user: string, lang: PageLanguage | undefined): Promise<CenterView> => await app.users.center(user, lang ?? 'en')
  const common = { config: { linkToken: true }, schema: { tags: ['preference-center'], security: [{ preferenceLink: [] }] } } as const
  const changeResponses = { 200: CenterView, ...errorResponses(400, 401, 404, 413, 415, 503) }

  app.get('/v1/preference-center', {
    ...common,
    schema: {
      ...common.schema,
      operationId: 'getPreferenceCenter',
      summary: 'What the preference centre shows the link\'s user',
      querystring: CenterQuery,
      response: { 200: CenterView, ...errorResponses(400, 401, 404, 503) }
    }
  }, async (request) => await view(userOf(request), request.query.lang))

  app.put('/v1/preference-center/marketing', {
    ...common,
    bodyLimit: 1024,
    schema: {
      ...common.schema,
      operationId: 'setPreferenceCenterMarketing',
      summary: 'Switch all marketing pop-ups off or on for the link\'s user',
      querystring: CenterQuery,
      body: MarketingBody,
      response: changeResponses
    }
  }, async (request) => {
    await app.users.changeFromCenter(userOf(request), { kind: 'marketing', value: request.body.marketing })
    return await view(userOf(request), request.query.lang)
  })

  app.put('/v1/preference-center/categories/:category', {
    ...common,
    bodyLimit: 1024,
    schema: {
      ...common.schema,
      operationId: 'setPreferenceCenterCategory',
      summary: 'Switch one category of marketing pop-ups off or on for the link\'s user',
      description: 'The category must be one the preference centre lists (a category of marketing campaigns in the registry, or one already off); others answer 400.',
      querystring: CenterQuery,
      params: CategoryParams,
      body: CategoryBody,
      response: changeResponses
    }
  }, async (request) => {
    const user = userOf(request)
    const { category } = request.params
    const current = await view(user, request.query.lang)
    if (!current.categories.some((c) => c.id === category)) {
      throw new ValidationError(`unknown category "${category.slice(0, 64)}"`, [{ path: '/category', message: 'must be one of the categories the preference centre lists' }])
    }
    await app.users.changeFromCenter(user, { kind: 'category', category, value: request.body.value })
    return await view(user, request.query.lang)
  })

  app.put('/v1/preference-center/snooze', {
    ...common,
    bodyLimit: 1024,
    schema: {
      ...common.schema,
      operationId: 'setPreferenceCenterSnooze',
      summary: `Snooze marketing pop-ups for ${SNOOZE_DAYS.join(', ')} days, or end the snooze (0)`,
      querystring: CenterQuery,
      body: SnoozeBody,
      response: changeResponses
    }
  }, async (request) => {
    const { days } = request.body
    await app.users.changeFromCenter(userOf(request), { kind: 'snooze', until: days === 0 ? null : app.clock() + days * DAY_MS })
    return await view(userOf(request), request.query.lang)
  })
}
export default fp(preferenceCenterRoutes, {
  name: 'popguard-routes-preference-center',
  dependencies: ['popguard-openapi', 'popguard-context', 'popguard-errors', 'popguard-users'],
  encapsulate: true
})
