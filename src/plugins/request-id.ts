import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import fp from 'fastify-plugin'
import { UNMATCHED_ROUTE } from '../metrics/metrics.js'

export const REQUEST_ID_HEADER = 'x-request-id'
/** A request id a caller may choose: letters, digits and `. _ : = + / @ -`, at most 128 characters. */
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:=+/@-]{1,128}$/

/**
 * The caller's `X-Request-Id` when it is safe to log and echo (one header, a bounded length and
 * charset), else a new UUID: a header is never trusted into a log line or a response as it came.
 */
export function requestIdOf (req: IncomingMessage): string {
  const given = req.headers[REQUEST_ID_HEADER]
  return typeof given === 'string' && SAFE_REQUEST_ID.test(given) ? given : randomUUID()
}

/** Fastify options: request ids from requestIdOf, bound to every request's log lines as `reqId` (Fastify's label). */
export const requestIdOptions = { genReqId: requestIdOf, requestIdHeader: false } as const

/**
 * Every answer carries the request id (`X-Request-Id`), errors included, and every request
 * leaves one access line: method, route pattern (never the raw URL: URLs carry user ids),
 * status and response time. Routes logged at `warn` (health, metrics) leave none.
 */
export const requestIdsPlugin = fp(async (app) => {
  app.addHook('onRequest', (request, reply, done) => {
    reply.header(REQUEST_ID_HEADER, request.id)
    done()
  })
  app.addHook('onResponse', (request, reply, done) => {
    request.log.info({
      event: 'access',
      method: request.method,
      route: request.routeOptions.url ?? UNMATCHED_ROUTE,
      status: reply.statusCode,
      responseTime: Math.round(reply.elapsedTime * 1000) / 1000
    }, 'request')
    done()
  })
}, { name: 'popguard-request-ids' })
