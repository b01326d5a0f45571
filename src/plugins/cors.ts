import cors from '@fastify/cors'
import fp from 'fastify-plugin'
import { browserOrigins } from '../config/end-user-tokens.js'
import { REQUEST_ID_HEADER } from './request-id.js'
import { USER_TOKEN_HEADER } from './end-user-token.js'

/** How long a browser may reuse a preflight answer (s). */
const PREFLIGHT_MAX_AGE_S = 600

/**
 * Browsers may call popguard only from the origins configured for the keys that require
 * end-user tokens (POPGUARD_END_USER_TOKENS): those get CORS headers and preflight answers;
 * any other origin gets none (its preflight is a 404). Register before the API key hook, so
 * that refusals (401, 403) are readable by the page too.
 */
export const corsPlugin = fp(async (app) => {
  const allowed = browserOrigins(app.config.endUserTokens)
  if (allowed.size === 0) return
  await app.register(cors, {
    origin: (origin, callback) => { callback(null, origin !== undefined && allowed.has(origin)) },
    methods: ['GET', 'PUT', 'POST', 'DELETE'],
    allowedHeaders: ['authorization', 'content-type', USER_TOKEN_HEADER, REQUEST_ID_HEADER],
    exposedHeaders: [REQUEST_ID_HEADER, 'retry-after'],
    maxAge: PREFLIGHT_MAX_AGE_S,
    strictPreflight: true
  })
}, { name: 'popguard-cors', dependencies: ['popguard-context', 'popguard-errors'] })
