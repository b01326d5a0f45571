import { STATUS_CODES, type ServerOptions } from 'node:http'
import type { Socket } from 'node:net'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { UriTooLongError } from '../errors.js'
import { errorBody } from './errors.js'

export interface HttpTimeouts {
  /** The whole request, headers and body, must have arrived within this (ms); else 408. */
  requestMs: number
  /** The request line and headers must have arrived within this (ms); else 408. */
  headersMs: number
  /** An idle keep-alive connection is closed after this (ms): longer than a load balancer's idle timeout (60 s). */
  keepAliveMs: number
}

export const DEFAULT_TIMEOUTS: HttpTimeouts = { requestMs: 10_000, headersMs: 5_000, keepAliveMs: 72_000 }

/** The longest URL served; a longer one is answered 414 before routing. */
export const MAX_URL_LENGTH = 8192
/** The longest path parameter: a user id of 256 characters of 4 UTF-8 bytes each, percent-encoded. */
export const MAX_PARAM_LENGTH = 256 * 4 * 3
/** How long a client is told to wait before it retries a request refused while this instance shuts down (s). */
const RETRY_AFTER_CLOSING_S = 1

/**
 * Fastify options that make Node enforce the timeouts. Node compares them with the clock only
 * every `connectionsCheckingInterval` (30 s by default: a body trickled in at 1 byte per 500 ms
 * was accepted after 40 s under a 10 s timeout), so check often enough to overshoot by 1 s at most.
 */
export function timeoutOptions (t: HttpTimeouts): { requestTimeout: number, keepAliveTimeout: number, http: ServerOptions } {
  const headersMs = Math.min(t.headersMs, t.requestMs)
  const checkEveryMs = Math.max(25, Math.min(1000, Math.floor(headersMs / 4)))
  return {
    // Fastify copies these two onto the server after creating it: they must agree with `http`.
    requestTimeout: t.requestMs,
    keepAliveTimeout: t.keepAliveMs,
    http: { requestTimeout: t.requestMs, headersTimeout: headersMs, connectionsCheckingInterval: checkEveryMs }
  }
}

const CLIENT_ERRORS: Record<string, [number, string]> = {
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'the request did not arrive in time'],
  HPE_HEADER_OVERFLOW: [431, 'the request line and headers are too large']
}

/** Node's in-flight response on the socket, if any (Node's own default handler looks at it too). */
const responseStarted = (socket: Socket): boolean =>
  (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true

/**
 * Errors below HTTP (the `clientErrorHandler` option): malformed requests, oversized headers,
 * timeouts. Answered in the one error shape when nothing was written on the socket yet, then closed.
 */
export function answerClientError (this: FastifyInstance, err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return
  const [status, message] = CLIENT_ERRORS[err.code ?? ''] ?? [400, 'malformed HTTP request']
  // The raw packet may hold a user id: the code alone is logged.
  this.log.debug({ code: err.code, status }, 'client error')
  if (socket.writable && !responseStarted(socket)) {
    const body = JSON.stringify(errorBody(status, message))
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`)
  }
  socket.destroy(err)
}

/**
 * Before any other hook: an over-long URL is a 414, and once the app is closing a request that
 * still arrives (on a kept-alive connection) is a 503 in the one shape, with `Retry-After`,
 * instead of Fastify's own 503 body (`return503OnClosing` is off).
 */
export const connectionsPlugin = fp(async (app) => {
  let closing = false
  app.addHook('preClose', (done) => {
    closing = true
    done()
  })
  app.addHook('onRequest', (request, reply, done) => {
    if (closing) {
      reply.code(503).header('retry-after', String(RETRY_AFTER_CLOSING_S)).header('connection', 'close')
        .send(errorBody(503, 'this instance is shutting down: retry'))
      return
    }
    if (request.raw.url !== undefined && request.raw.url.length > MAX_URL_LENGTH) { done(new UriTooLongError(MAX_URL_LENGTH)); return }
    done()
  })
}, { name: 'popguard-connections' })
