/**
 * The open-loop generator of bench/shedding.ts, in a process of its own: `overload` seconds at
 * `rate` req/s, then `recovery` seconds at `recoveryRate`, each request measured from the time it
 * was due (no coordinated omission). Prints one JSON line: per phase the answers by status, the
 * accepted (200) latencies' percentiles, `degraded` answers, and the time from the end of the
 * overload to the due time of the last recovery request that was shed or slower than `slowMs`.
 *
 *   npx tsx bench/shedding-client.ts '<json args>'
 */
import { Agent, request } from 'node:http'
import { decideBody, type Workload } from './lib/load.js'
import { percentiles, type Percentiles } from './lib/stats.js'

type UniformWorkload = Extract<Workload, { kind: 'uniform' }>

interface Args { url: string, headers: Record<string, string>, rate: number, overload: number, recoveryRate: number, recovery: number, slowMs: number, maxSockets: number, workload: UniformWorkload }

export interface PhaseResult { sent: number, byStatus: Record<string, number>, errors: number, degraded: number, accepted: Percentiles, secondsToSend: number }
export interface ClientResult { overload: PhaseResult, recovery: PhaseResult, recoveredAfterMs: number }

const a = JSON.parse(process.argv[2] ?? '{}') as Args
const agent = new Agent({ keepAlive: true, maxSockets: a.maxSockets })
const target = new URL(a.url)

async function phase (rate: number, seconds: number, onSentAll: () => void, onAnswer?: (dueAt: number, ok: boolean) => void): Promise<PhaseResult> {
  const total = Math.round(rate * seconds)
  const latencies: number[] = []
  const byStatus: Record<string, number> = {}
  let errors = 0
  let degraded = 0
  let sent = 0
  let finished = 0
  const started = performance.now()
  let sentAll = started
  await new Promise<void>((resolve) => {
    const done = (): void => { if (++finished === total) resolve() }
    const send = (dueAt: number): void => {
      const body = decideBody(a.workload)
      const req = request({
        agent,
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...a.headers }
      }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => {
          const status = res.statusCode ?? 0
          const ms = performance.now() - dueAt
          byStatus[status] = (byStatus[status] ?? 0) + 1
          if (status === 200) {
            latencies.push(ms)
            if (Buffer.concat(chunks).includes('"degraded"')) degraded++
          }
          onAnswer?.(dueAt, status === 200 && ms <= a.slowMs)
          done()
        })
      })
      req.on('error', () => { errors++; onAnswer?.(dueAt, false); done() })
      req.end(body)
    }
    const tick = (): void => {
      const due = Math.min(total, Math.floor((performance.now() - started) * rate / 1000))
      while (sent < due) send(started + (sent++ * 1000) / rate)
      if (sent < total) setTimeout(tick, 1)
      else {
        sentAll = performance.now()
        onSentAll()
      }
    }
    tick()
  })
  return { sent: total, byStatus, errors, degraded, accepted: percentiles(Float64Array.from(latencies)), secondsToSend: (sentAll - started) / 1000 }
}

// The recovery load starts as soon as the overload stops sending, not once its backlog is answered.
let overloadEnd = 0
let lastBad = 0
let recoveryDone: Promise<PhaseResult> | null = null
const overload = await phase(a.rate, a.overload, () => {
  overloadEnd = lastBad = performance.now()
  recoveryDone = phase(a.recoveryRate, a.recovery, () => {}, (dueAt, ok) => { if (!ok && dueAt > lastBad) lastBad = dueAt })
})
const recovery = await (recoveryDone as unknown as Promise<PhaseResult>)
agent.destroy()
const result: ClientResult = { overload, recovery, recoveredAfterMs: lastBad - overloadEnd }
process.stdout.write(JSON.stringify(result) + '\n')
