import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { ApiKey, Scope } from '../config/api-keys.js'
import { ForbiddenError, UnauthorizedError } from '../errors.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The scope an API key needs for this route; routes without one are public (health, metrics). */
    scope?: Scope
  }
  interface FastifyRequest {
    /** The key that authenticated the request: its name goes into audit records. */
    apiKey: ApiKey | null
  }
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest()

/** Finds the key whose secret matches, comparing every key in constant time. */
function keyFinder (keys: readonly ApiKey[]): (presented: string) => ApiKey | null {
  const known = keys.map((k) => ({ key: k, hash: digest(k.secret) }))
  return (presented) => {
    const hash = digest(presented)
    let found: ApiKey | null = null
    for (const k of known) if (timingSafeEqual(k.hash, hash)) found = k.key
    return found
  }
}

function bearer (request: FastifyRequest): string | null {
  const header = request.headers.authorization
  if (header === undefined) return null
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header)
  return match?.[1] ?? null
}

/** Every route with a `config.scope` needs a configured API key holding that scope (401, 403 otherwise). */
export const authPlugin = fp(async (app) => {
  const find = keyFinder(app.config.apiKeys)
  app.decorateRequest('apiKey', null)
  // Callback style: an async hook costs a promise and a microtask on every request.
  app.addHook('onRequest', (request, _reply, done) => {
    const scope = request.routeOptions.config.scope
    if (scope === undefined) { done(); return }
    const presented = bearer(request)
    const key = presented === null ? null : find(presented)
    if (key === null) { done(new UnauthorizedError()); return }
    if (!key.scopes.has(scope)) { done(new ForbiddenError(scope)); return }
    request.apiKey = key
    done()
  })
}, { name: 'popguard-auth', dependencies: ['popguard-context', 'popguard-errors'] })
