import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerOptions, type ServerResponse } from 'node:http'
import type { FastifyServerFactory } from 'fastify'
import fp from 'fastify-plugin'
import type { AppConfig } from '../config/config.js'
import { browserOrigins } from '../config/end-user-tokens.js'
import { UNMATCHED_ROUTE } from '../metrics/metrics.js'
import { errorBody } from './errors.js'
import { requestIdOf, REQUEST_ID_HEADER } from './request-id.js'
import { ShedGate, type ShedReason } from './shed-gate.js'

/** Paths never shed: probes and scrapes must stay cheap and truthful while the instance is loaded. */
const NEVER_SHED = new Set(['/healthz', '/readyz', '/metrics'])

const pathOf = (url: string): string => {
  const q = url.indexOf('?')
  return q < 0 ? url : url.slice(0, q)
}

/** The gate and what its answers need: built before the app (the server needs them), wired by the plugin. */
export interface Shedding { gate: ShedGate, answers: ShedAnswers }

/** The gate and answers for a config; counting and route labels stay no-ops until loadSheddingPlugin wires them. */
export function createShedding (config: AppConfig): Shedding {
  return {
    gate: new ShedGate(config.shedding),
    answers: {
      retryAfterSeconds: config.shedding.retryAfterSeconds,
      corsOrigins: browserOrigins(config.endUserTokens),
      counted: () => {},
      routeOf: () => UNMATCHED_ROUTE
    }
  }
}

/** What a shed answer needs besides the gate. */
export interface ShedAnswers {
  retryAfterSeconds: number
  /** Origins whose pages may read popguard's answers (CORS), as the CORS plugin allows them. */
  corsOrigins: ReadonlySet<string>
  /** Counts a shed request (by reason, and as a 503 of its route). */
  counted: (reason: ShedReason, method: string, route: string, seconds: number) => void
  /** The route pattern a method and path would reach, for the metric label. */
  routeOf: (method: string, path: string) => string
}

/**
 * Load shedding at the HTTP server, before Fastify builds anything for a request: a shed request
 * costs Node's parsing and one write (a median 74 us of CPU on the bench machine), where answering
 * it from a Fastify hook cost 94 us and a decision about 210 us (bench/shed-cost.ts). Past three
 * times the sustainable rate the 503s take as much CPU as the answered load, so each microsecond
 * counts (docs/benchmark.md, "Load shedding, second round").
 * The answer is the one error shape with `Retry-After` and `X-Request-Id`, CORS headers for an
 * allowed origin, and it is counted as a 503 of its route, so the availability SLO sees it.
 */
export function sheddingServerFactory ({ gate, answers }: Shedding): FastifyServerFactory {
  const bodies = new Map<ShedReason, string>()
  const bodyOf = (reason: ShedReason): string => {
    let body = bodies.get(reason)
    if (body === undefined) {
      const s = answers.retryAfterSeconds
      body = JSON.stringify(errorBody(503, `overloaded (${reason.replaceAll('_', ' ')}): retry in ${s} s; a decision meanwhile is "show nothing"`))
      bodies.set(reason, body)
    }
    return body
  }
  const shed = (req: IncomingMessage, res: ServerResponse, path: string, reason: ShedReason, started: number): void => {
    const body = bodyOf(reason)
    const headers: Record<string, string | number> = {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      'retry-after': answers.retryAfterSeconds,
      [REQUEST_ID_HEADER]: requestIdOf(req)
    }
    const origin = req.headers.origin
    if (origin !== undefined && answers.corsOrigins.has(origin)) {
      headers['access-control-allow-origin'] = origin
      headers['access-control-expose-headers'] = `${REQUEST_ID_HEADER}, retry-after`
      headers.vary = 'Origin'
    }
    res.writeHead(503, headers)
    res.end(body)
    const method = req.method ?? 'GET'
    answers.counted(reason, method, answers.routeOf(method, path), (performance.now() - started) / 1000)
  }

  return (handler: RequestListener, options: Record<string, unknown>): Server => {
    const server = createServer((options.http ?? {}) as ServerOptions, (req, res) => {
      const path = pathOf(req.url ?? '/')
      if (NEVER_SHED.has(path)) return handler(req, res)
      const started = performance.now()
      const reason = gate.enter()
      if (reason !== null) return shed(req, res, path, reason, started)
      res.once('close', gate.leave)
      handler(req, res)
    })
    // What Fastify sets on a server it creates itself (lib/server.js), from the same options.
    server.keepAliveTimeout = options.keepAliveTimeout as number
    server.requestTimeout = options.requestTimeout as number
    server.setTimeout(options.connectionTimeout as number)
    const perSocket = options.maxRequestsPerSocket as number | undefined
    if (perSocket !== undefined && perSocket > 0) server.maxRequestsPerSocket = perSocket
    return server
  }
}

/**
 * Wires the gate to the app: its timers run while the app is ready, shed requests are counted in
 * the metrics, and route patterns (collected as routes are added) label them.
 */
export const loadSheddingPlugin = fp<Shedding>(async (app, { gate, answers }) => {
  const exact = new Map<string, string>()
  const patterns: { method: string, pattern: RegExp, url: string }[] = []
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      if (!/[:*]/.test(route.url)) exact.set(`${method} ${route.url}`, route.url)
      else patterns.push({ method, url: route.url, pattern: new RegExp(`^${route.url.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/:[^/]+/g, '[^/]+').replace(/\*/g, '.*')}$`) })
    }
  })
  answers.routeOf = (method, path) =>
    exact.get(`${method} ${path}`) ?? patterns.find((p) => p.method === method && p.pattern.test(path))?.url ?? UNMATCHED_ROUTE
  answers.counted = (reason, method, route, seconds) => {
    app.metrics.requestShed(reason)
    app.metrics.httpRequest(method, route, 503, seconds)
  }
  app.addHook('onReady', async () => { gate.start() })
  app.addHook('onClose', async () => { gate.stop() })
}, { name: 'popguard-load-shedding', dependencies: ['popguard-context', 'popguard-metrics'] })
