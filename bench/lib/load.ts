/**
 * The load: the same generator of decide bodies for both servers, a closed-loop
 * full load (autocannon, no pipelining) and an open-loop paced load for latency
 * at a fixed rate (autocannon's rate limit sends each second's quota in a burst,
 * which would measure full-load latency for part of every second).
 */
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { Agent, request } from 'node:http'
import autocannon from 'autocannon'
import { RealisticTraffic } from './realistic.js'

/**
 * `uniform`: every request a user drawn at random among `users`, 3 distinct candidates of the policy's.
 * `realistic`: bench/lib/realistic.ts (sessions of users whose activity follows a power law).
 */
export type Workload =
  | { kind: 'uniform', users: number, campaignIds: string[], withRequestId: boolean }
  | { kind: 'realistic', seed: number, userPrefix: string, withRequestId: boolean }

const PLACEMENTS = ['home', 'wallet', 'after-payment']
const PLATFORMS = ['ios', 'android', 'web']

function pick<T> (items: readonly T[]): T {
  return items[Math.floor(Math.random() * items.length)] as T
}

function threeOf (ids: readonly string[]): { campaignId: string }[] {
  const chosen = new Set<string>()
  while (chosen.size < Math.min(3, ids.length)) chosen.add(pick(ids))
  return [...chosen].map((campaignId) => ({ campaignId }))
}

/** The ids of the campaigns a policy file declares (the candidates a uniform workload draws from). */
export function campaignIdsOf (policyFile: string): string[] {
  return (JSON.parse(readFileSync(policyFile, 'utf8')) as { campaigns: { id: string }[] }).campaigns.map((c) => c.id)
}

/** One uniform decide body: a user drawn at random from `users`, 3 distinct candidates. */
export function decideBody (w: Extract<Workload, { kind: 'uniform' }>, userId = `bench-user-${Math.floor(Math.random() * w.users)}`): string {
  return JSON.stringify({
    userId,
    placement: pick(PLACEMENTS),
    candidates: threeOf(w.campaignIds),
    ...(w.withRequestId ? { requestId: randomUUID() } : {}),
    context: { platform: pick(PLATFORMS) }
  })
}

/** A source of decide bodies for a workload: each call the next request (a realistic source keeps its sessions). */
export function bodySource (w: Workload): () => string {
  if (w.kind === 'uniform') return () => decideBody(w)
  const traffic = new RealisticTraffic(w.seed, w.userPrefix)
  return () => traffic.next(w.withRequestId)
}

export interface LoadResult {
  ok: number
  failed: number
  seconds: number
  /** 2xx responses per second. */
  rps: number
  /** Latencies of 2xx responses, ms, unsorted. */
  latenciesMs: Float64Array
}

class LatencyLog {
  private values = new Float64Array(1 << 16)
  private n = 0
  add (ms: number): void {
    if (this.n === this.values.length) {
      const bigger = new Float64Array(this.values.length * 2)
      bigger.set(this.values)
      this.values = bigger
    }
    this.values[this.n++] = ms
  }

  done (): Float64Array { return this.values.slice(0, this.n) }
}

export interface ClosedLoadOptions {
  url: string
  headers: Record<string, string>
  connections: number
  body: () => string
  seconds?: number
  amount?: number
}

/** As many requests as `connections` connections can make (closed loop), for a time or an amount. */
export async function closedLoad (o: ClosedLoadOptions): Promise<LoadResult> {
  const latencies = new LatencyLog()
  let ok = 0
  let failed = 0
  const started = performance.now()
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon({
      url: o.url,
      connections: o.connections,
      pipelining: 1,
      ...(o.amount === undefined ? { duration: o.seconds ?? 10 } : { amount: o.amount }),
      headers: { 'content-type': 'application/json', ...o.headers },
      requests: [{ method: 'POST', setupRequest: (req) => ({ ...req, body: o.body() }) }]
    }, (err: unknown, res) => { if (err instanceof Error) reject(err); else resolve(res) })
    instance.on('response', (_client, status, _bytes, ms) => {
      if (status >= 200 && status < 300) {
        ok++
        latencies.add(ms)
      } else {
        failed++
      }
    })
    instance.on('reqError', () => { failed++ })
  })
  const seconds = o.amount === undefined ? result.duration : (performance.now() - started) / 1000
  return { ok, failed, seconds, rps: ok / seconds, latenciesMs: latencies.done() }
}

export interface PacedLoadOptions {
  url: string
  headers: Record<string, string>
  /** Requests per second, sent evenly. */
  rate: number
  seconds: number
  body: () => string
  maxSockets: number
}

/**
 * Sends requests at a steady rate (open loop) and measures each one from the time it
 * was due, so a slow server cannot hide its queue (no coordinated omission).
 */
export async function pacedLoad (o: PacedLoadOptions): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: o.maxSockets })
  const target = new URL(o.url)
  const latencies = new LatencyLog()
  const total = Math.round(o.rate * o.seconds)
  let ok = 0
  let failed = 0
  let sent = 0
  let finished = 0
  const started = performance.now()

  if (total < 1) throw new Error('pacedLoad: nothing to send')
  await new Promise<void>((resolve) => {
    const send = (dueAt: number): void => {
      const body = o.body()
      const req = request({
        agent,
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...o.headers }
      }, (res) => {
        res.resume()
        res.on('end', () => {
          const status = res.statusCode ?? 0
          if (status >= 200 && status < 300) {
            ok++
            latencies.add(performance.now() - dueAt)
          } else {
            failed++
          }
          if (++finished === total) resolve()
        })
      })
      req.on('error', () => {
        failed++
        if (++finished === total) resolve()
      })
      req.end(body)
    }
    const tick = (): void => {
      const elapsed = performance.now() - started
      const due = Math.min(total, Math.floor(elapsed * o.rate / 1000))
      while (sent < due) {
        send(started + (sent * 1000) / o.rate)
        sent++
      }
      if (sent < total) setTimeout(tick, 1)
    }
    tick()
  })
  agent.destroy()
  const seconds = (performance.now() - started) / 1000
  return { ok, failed, seconds, rps: ok / seconds, latenciesMs: latencies.done() }
}
