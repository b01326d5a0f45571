import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import fp from 'fastify-plugin'

/** The version of the API contract (v1), not of the package. */
const API_VERSION = '1.0.0'

/**
 * Builds the OpenAPI 3.1 document from the route schemas (register before the routes)
 * and serves it with interactive documentation on `/docs`, assets included (works offline).
 * A route's `config.scope` becomes its security requirement, so the document says which
 * key scope each operation needs.
 */
export const openApiPlugin = fp(async (app) => {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'popguard',
        version: API_VERSION,
        description: 'Decides whether a marketing pop-up may be shown: per-user frequency caps, one atomic step per decision. ' +
          'Every error is `{error, message, details?}`. Unknown paths and known paths with a method they do not accept both answer 404.'
      },
      servers: [{ url: 'http://localhost:3000', description: 'Local development' }],
      components: {
        securitySchemes: {
          apiKey: {
            type: 'http',
            scheme: 'bearer',
            description: 'An API key from POPGUARD_API_KEYS. Each operation lists the scope its key needs (client, preferences, admin, reports).'
          }
        }
      },
      tags: [
        { name: 'decisions', description: 'Whether to show a pop-up, and what happened to it' },
        { name: 'operations', description: 'Health, readiness and metrics, for SREs; no key needed' }
      ]
    },
    transform: ({ schema, url, route }) => {
      const scope = route.config?.scope
      if (scope === undefined || schema === undefined) return { schema, url }
      return { schema: { ...schema, security: [{ apiKey: [scope] }] }, url }
    }
  })
  await app.register(swaggerUi, { routePrefix: '/docs' })
}, { name: 'popguard-openapi' })
