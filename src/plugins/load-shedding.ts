import underPressure, { type FastifyUnderPressureOptions } from '@fastify/under-pressure'
import type { FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { ErrorBody } from '../schemas/common.js'
import { errorBody } from './errors.js'

/**
 * Limits past which this instance answers 503 at once instead of queueing (POPGUARD_SHED_*).
 * 0 turns a limit off.
 */
/** Routes never shed: probes and scrapes must stay cheap and truthful while the instance is loaded. */
const NEVER_SHED = new Set(['/healthz', '/readyz', '/metrics'])
/** How often under-pressure samples the loop delay and the heap, ms. */
const SAMPLE_INTERVAL_MS = 50

export type ShedReason = 'in_flight' | 'event_loop_delay' | 'heap'

type PressureHandler = NonNullable<FastifyUnderPressureOptions['pressureHandler']>
const REASONS: Record<string, ShedReason> = { eventLoopDelay: 'event_loop_delay', heapUsedBytes: 'heap' }

/**
 * Load shedding: past a limit, requests other than health and metrics get 503 with
 * `Retry-After` and the one error shape, answered in onRequest (before the body is parsed,
 * before authentication). Clients treat it as "show nothing".
 */
export const loadSheddingPlugin = fp(async (app) => {
  const limits = app.config.shedding
  const retryAfter = String(limits.retryAfterSeconds)
  /** Sets the status and header, counts, and gives the body to send. */
  const shed = (reply: FastifyReply, reason: ShedReason): ErrorBody => {
    // Registered before the metrics (so that shedding runs before authentication); requests come after both.
    app.metrics.requestShed(reason)
    reply.code(503).header('retry-after', retryAfter)
    return errorBody(503, `overloaded (${reason.replaceAll('_', ' ')}): retry in ${retryAfter} s; a decision meanwhile is "show nothing"`)
  }
  const exempt = (request: FastifyRequest): boolean => NEVER_SHED.has(request.routeOptions.url ?? '')

  // The start (compiling, connecting, loading the policy) blocks the loop, and the first samples
  // hold it: the loop-delay limit counts from two samples after the app is ready, so that the
  // first requests after a start are not shed for the start's sake.
  let loopDelayCountsFrom = Infinity
  app.addHook('onReady', async () => { loopDelayCountsFrom = performance.now() + 2 * SAMPLE_INTERVAL_MS })
  const ignored = (type: string): boolean => type === 'eventLoopDelay' && performance.now() < loopDelayCountsFrom

  if (limits.maxEventLoopDelayMs > 0 || limits.maxHeapUsedBytes > 0) {
    await app.register(underPressure, {
      sampleInterval: SAMPLE_INTERVAL_MS,
      maxEventLoopDelay: limits.maxEventLoopDelayMs,
      maxHeapUsedBytes: limits.maxHeapUsedBytes,
      // Returning nothing lets the request through (under-pressure calls next()).
      // Nothing returned lets the request through; a value returned is sent as the answer (documented
      // in under-pressure's README, though its types say void).
      pressureHandler: ((request: FastifyRequest, reply: FastifyReply, type: string) =>
        exempt(request) || ignored(type) ? undefined : shed(reply, REASONS[type] ?? 'event_loop_delay')) as unknown as PressureHandler
    })
  }

  if (limits.maxInFlight > 0) {
    let inFlight = 0
    app.addHook('onRequest', (request, reply, done) => {
      if (exempt(request)) return done()
      if (inFlight >= limits.maxInFlight) {
        reply.send(shed(reply, 'in_flight'))
        return
      }
      inFlight++
      // 'close' comes once per response, answered or aborted.
      reply.raw.once('close', () => { inFlight-- })
      done()
    })
  }
}, { name: 'popguard-load-shedding', dependencies: ['popguard-context', 'popguard-errors'] })
