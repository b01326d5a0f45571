/**
 * The open-loop generator of bench/shedding.ts (raw keep-alive sockets, lib/raw-http.ts), in a process of its own: `overload` seconds at
 * `rate` req/s, then `recovery` seconds at `recoveryRate`, each request measured from the time it
 * was due (no coordinated omission). Prints one JSON line: per phase the answers by status, the
 * accepted (200) latencies' percentiles, `degraded` answers, and the time from the end of the
 * overload to the due time of the last recovery request that was shed or slower than `slowMs`.
 *
 *   npx tsx bench/shedding-client.ts '<json args>'
 */
import { decideBody, type Workload } from './lib/load.js'
import { RawHttpPool } from './lib/raw-http.js'
import { percentiles, type Percentiles } from './lib/stats.js'

type UniformWorkload = Extract<Workload, { kind: 'uniform' }>

interface Args { url: string, headers: Record<string, string>, rate: number, overload: number, recoveryRate: number, recovery: number, slowMs: number, maxSockets: number, workload: UniformWorkload }

export interface PhaseResult { sent: number, byStatus: Record<string, number>, errors: number, degraded: number, accepted: Percentiles, secondsToSend: number, maxQueuedInGenerator: number, timeline: TimelineBin[] }
/** Requests due within one `BIN_MS` of a phase: how many were accepted and shed, and the accepted ones' worst latency. */
export interface TimelineBin { fromS: number, accepted: number, shed: number, maxMs: number }
const BIN_MS = 500
export interface ClientResult { overload: PhaseResult, recovery: PhaseResult | null, recoveredAfterMs: number, generatorCpuMs: number }

const a = JSON.parse(process.argv[2] ?? '{}') as Args
const pool = new RawHttpPool({ url: a.url, headers: a.headers, maxSockets: a.maxSockets, wantBodies: true })
const DEGRADED = Buffer.from('"degraded"')

async function phase (rate: number, seconds: number, onSentAll: () => void, onAnswer?: (dueAt: number, ok: boolean) => void): Promise<PhaseResult> {
  const total = Math.round(rate * seconds)
  const latencies = new Float64Array(total)
  let accepted = 0
  const byStatus: Record<string, number> = {}
  let errors = 0
  let degraded = 0
  let sent = 0
  let finished = 0
  let maxQueued = 0
  const started = performance.now()
  const bins: TimelineBin[] = Array.from({ length: Math.ceil(seconds * 1000 / BIN_MS) }, (_, k) => ({ fromS: k * BIN_MS / 1000, accepted: 0, shed: 0, maxMs: 0 }))
  let sentAll = started
  await new Promise<void>((resolve) => {
    const answered = (dueAt: number, answer: { status: number, body?: Buffer }): void => {
      const ms = performance.now() - dueAt
      if (answer.status === 0) errors++
      else byStatus[answer.status] = (byStatus[answer.status] ?? 0) + 1
      const bin = bins[Math.min(bins.length - 1, Math.floor((dueAt - started) / BIN_MS))] as TimelineBin
      if (answer.status === 503) bin.shed++
      if (answer.status === 200) {
        bin.accepted++
        bin.maxMs = Math.max(bin.maxMs, ms)
        latencies[accepted++] = ms
        if (answer.body?.includes(DEGRADED) === true) degraded++
      }
      onAnswer?.(dueAt, answer.status === 200 && ms <= a.slowMs)
      if (++finished === total) resolve()
    }
    const tick = (): void => {
      const due = Math.min(total, Math.floor((performance.now() - started) * rate / 1000))
      while (sent < due) pool.post(decideBody(a.workload), started + (sent++ * 1000) / rate, answered)
      maxQueued = Math.max(maxQueued, pool.queued)
      if (sent < total) setTimeout(tick, 1)
      else {
        sentAll = performance.now()
        onSentAll()
      }
    }
    tick()
  })
  return { sent: total, byStatus, errors, degraded, accepted: percentiles(latencies.subarray(0, accepted)), secondsToSend: (sentAll - started) / 1000, maxQueuedInGenerator: maxQueued, timeline: bins }
}

// The recovery load starts as soon as the overload stops sending, not once its backlog is answered.
let overloadEnd = 0
let lastBad = 0
let recoveryDone: Promise<PhaseResult | null> = Promise.resolve(null)
await pool.warm()
const overload = await phase(a.rate, a.overload, () => {
  overloadEnd = lastBad = performance.now()
  // recovery 0: one phase only (the script's search for the sustainable rate).
  if (a.recovery > 0) recoveryDone = phase(a.recoveryRate, a.recovery, () => {}, (dueAt, ok) => { if (!ok && dueAt > lastBad) lastBad = dueAt })
})
const recovery = await recoveryDone
pool.close()
const cpu = process.cpuUsage()
const result: ClientResult = { overload, recovery, recoveredAfterMs: lastBad - overloadEnd, generatorCpuMs: (cpu.user + cpu.system) / 1000 }
process.stdout.write(JSON.stringify(result) + '\n')
