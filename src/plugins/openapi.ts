import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import fp from 'fastify-plugin'
import { addRequestExamples, addRequestIdHeaders, componentSchemas, contractSchema } from './openapi-components.js'

/** The version of the API contract (v1), not of the package. */
const API_VERSION = '1.0.0'

/**
 * Builds the OpenAPI 3.1 document from the route schemas (register before the routes)
 * and serves it with interactive documentation on `/docs`, assets included (works offline).
 * Schemas with an `$id` are components, referenced wherever used; a route's `config.scope`
 * becomes its security requirement, and a route without one is public (`security: []`).
 */
export const openApiPlugin = fp(async (app) => {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'popguard',
        version: API_VERSION,
        description: 'Decides whether a marketing pop-up may be shown: per-user frequency caps, one atomic step per decision. ' +
          'Every error is `{error, message, details?}`. Unknown paths and known paths with a method they do not accept both answer 404. ' +
          'Integrating a client: docs/clients.md.',
        license: { name: 'Proprietary (UNLICENSED)' }
      },
      servers: [{ url: '/', description: 'The popguard instance serving this document' }],
      components: {
        securitySchemes: {
          apiKey: {
            type: 'http',
            scheme: 'bearer',
            description: 'An API key from POPGUARD_API_KEYS. Each operation lists the scope its key needs (client, preferences, admin, reports).'
          },
          userToken: {
            type: 'apiKey',
            in: 'header',
            name: 'X-User-Token',
            description: 'An end-user token: a short-lived JWT naming the user (`sub`), signed by the app\'s backend. ' +
              'Required with the keys POPGUARD_END_USER_TOKENS names (keys shipped in apps); every user id of the request must be its `sub`.'
          },
          preferenceLink: {
            type: 'http',
            scheme: 'bearer',
            bearerFormat: 'JWT',
            description: 'The token of a preference-centre link: a short-lived JWT naming one user (`sub`), signed by the app\'s backend ' +
              'with a key of POPGUARD_PREFERENCE_LINKS. The preference centre\'s only credential: no API key reaches the browser.'
          }
        },
        schemas: componentSchemas()
      },
      tags: [
        { name: 'decisions', description: 'Whether to show a pop-up: one of the candidates, or nothing' },
        { name: 'events', description: 'What happened to a decided pop-up: shown, discarded, dismissed, clicked, converted, complained' },
        { name: 'users', description: 'A user\'s marketing preferences, their history, and erasure' },
        { name: 'preference-center', description: 'The page users open from a link to switch marketing pop-ups off, per category, or snooze them (`GET /preferences`), and its JSON' },
        { name: 'governance', description: 'The policy and the campaign registry: versioned, audited, penalties' },
        { name: 'reports', description: 'Reduction figures and per-campaign outcomes, and the report page for marketers' },
        { name: 'operations', description: 'Health, readiness and metrics, for SREs; no key needed' }
      ]
    },
    // Names the definitions the resolver still collects by their `$id` (every named one is a
    // component already: this only keeps `def-N` names out of the document).
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) => typeof json.$id === 'string' ? json.$id : `def-${i}`
    },
    transform: ({ schema, url, route }) => {
      if (schema === undefined) return { schema, url }
      const config = route.config
      return { schema: contractSchema(schema as Record<string, unknown>, config?.scope, config?.userIdsOf !== undefined, config?.linkToken === true) as typeof schema, url }
    },
    transformObject: (documents) => 'openapiObject' in documents ? addRequestIdHeaders(addRequestExamples(documents.openapiObject)) : documents.swaggerObject
  })
  await app.register(swaggerUi, { routePrefix: '/docs' })
}, { name: 'popguard-openapi' })
