/**
 * Load shedding under overload: popguard on its own Redis is driven open-loop at `--factor` (3)
 * times its sustainable rate, then at half that rate to watch it recover. Prints the accepted
 * requests' p99, the `degraded` answers (Redis stays healthy, so there must be none), popguard's
 * RSS, the 503s by limit, and the time from the end of the overload until decisions are answered
 * again within 50 ms, each with PASS/FAIL against issue 13's targets. docs/benchmark.md, "Load shedding".
 *
 *   npm run bench:shedding -- [--rate N] [--factor 3] [--seconds 10] [--recovery 5] [--cpus 0] [--sockets 256] [--timeline] [--skip-build]
 *
 * --cpus: a CPU limit for popguard in cores (lib/cpu-limit.ts; default 0, none: under a 0.5-core CFS
 * quota here an answer cost twice the CPU, so the limit measured the quota more than popguard), so that the generator and
 * Redis are not what runs out on a small machine. --sockets: the generator's connections.
 * --rate: the sustainable rate (req/s); without it, measured first on an instance with shedding off:
 * its saturation throughput (closed loop, 32 connections), then the highest open-loop rate, in steps
 * down from 0.9 of that, whose answers all come back with p99 under 50 ms.
 * POPGUARD_SHED_* in the environment reach popguard (README), to try other limits.
 */
import { execFile, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs, promisify } from 'node:util'
import { parseSamples, type Sample } from '../test/helpers/metrics.js'
import { campaignIdsOf, closedLoad, decideBody, type Workload } from './lib/load.js'
import { createCpuLimit, cpuLimitSupport, type CpuLimit } from './lib/cpu-limit.js'
import { benchDir, buildPopguard, cpuMs, startBuiltPopguard, stopAll, stopChild } from './lib/processes.js'
import { startRedis } from './lib/redis.js'
import type { ClientResult } from './shedding-client.js'

type UniformWorkload = Extract<Workload, { kind: 'uniform' }>

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const POLICY = join(ROOT, 'bench/policy.json')
const CLIENT_KEY = 'bench-client-key-0001'
const TARGETS = { acceptedP99Ms: 50, recoveryMs: 2000, rssGrowth: 1.5 }
/** Shares of the saturation throughput tried, highest first, for the sustainable rate. */
const SUSTAINABLE_STEPS = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4]
const { values: args } = parseArgs({
  options: {
    rate: { type: 'string' },
    factor: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '10' },
    recovery: { type: 'string', default: '5' },
    measure: { type: 'string', default: '5' },
    cpus: { type: 'string', default: '0' },
    sockets: { type: 'string', default: '256' },
    timeline: { type: 'boolean', default: false },
    'skip-build': { type: 'boolean', default: false }
  }
})

const t0 = performance.now()
const say = (m: string): void => { process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(1).padStart(6)}s] ${m}\n`) }
const rssMb = (pid: number): number => {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:')) ?? ''
  return Number(/(\d+)/.exec(line)?.[1] ?? NaN) / 1024
}
const value = (samples: Sample[], name: string, labels: Record<string, string> = {}): number => samples
  .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((n, s) => n + s.value, 0)
let cpuLimit: CpuLimit | null = null
const scrape = async (url: string): Promise<Sample[]> => parseSamples(await (await fetch(`${url}/metrics`)).text())

async function main (): Promise<boolean> {
  if (args['skip-build'] !== true) {
    say('building (npm run build)')
    buildPopguard()
  }
  const dir = benchDir('shedding')
  const redis = await startRedis(dir)
  const campaignIds = campaignIdsOf(POLICY)
  const workload: UniformWorkload = { kind: 'uniform', users: 100_000, campaignIds, withRequestId: true }
  const headers = { authorization: `Bearer ${CLIENT_KEY}` }
  const cpus = Number(args.cpus)
  const unsupported = cpus > 0 ? cpuLimitSupport() : null
  if (cpus > 0 && unsupported === null) cpuLimit = createCpuLimit('popguard', cpus)
  else if (cpus > 0) say(`popguard runs without a CPU limit: ${unsupported ?? ''}`)
  /** popguard under the CPU limit; `env` on top of the production defaults. */
  const start = async (env: Record<string, string> = {}): Promise<{ child: ChildProcess, url: string }> => {
    const started = await startBuiltPopguard({ dir, redisUrl: redis.url(0), policyFile: POLICY, clientKey: CLIENT_KEY, env })
    cpuLimit?.add(started.child.pid ?? 0)
    return started
  }
  /** The open-loop generator (shedding-client.ts) in a process of its own: `rate` for `seconds`, then `recoveryRate` for `recovery` s (0: none). */
  const openLoop = async (url: string, rate: number, seconds: number, recoveryRate: number, recovery: number): Promise<ClientResult> => {
    const clientArgs = { url: `${url}/v1/decide`, headers, rate, overload: seconds, recoveryRate, recovery, slowMs: TARGETS.acceptedP99Ms, maxSockets: Number(args.sockets), workload }
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/shedding-client.ts'), JSON.stringify(clientArgs)], { cwd: ROOT, maxBuffer: 1 << 20 })
    return JSON.parse(stdout) as ClientResult
  }
  let saturation = NaN
  const closed = async (url: string, seconds: number) => await closedLoad({ url: `${url}/v1/decide`, headers, connections: 32, seconds, body: () => decideBody(workload) })
  if (cpuLimit !== null) say(`popguard limited to ${cpus} of a core (a CFS quota, as a container's --cpus)`)
  let rate = Number(args.rate ?? NaN)
  if (Number.isNaN(rate)) {
    // Measured with shedding off, so that shedding cannot lower the bar: the most the instance answers
    // (closed loop, always a queue), then the highest open-loop rate it answers with p99 < 50 ms.
    const probe = await start({ POPGUARD_SHED_MAX_IN_FLIGHT: '0', POPGUARD_SHED_MAX_EVENT_LOOP_DELAY_MS: '0', POPGUARD_SHED_MAX_PER_TURN: '0' })
    say('warm-up: 3 s, closed loop, 32 connections, shedding off')
    await closed(probe.url, 3)
    say(`saturation throughput: ${args.measure} s, closed loop, 32 connections, shedding off`)
    saturation = Math.round((await closed(probe.url, Number(args.measure))).rps)
    for (const share of SUSTAINABLE_STEPS) {
      const tried = Math.round(saturation * share)
      const r = await openLoop(probe.url, tried, 3, 0, 0)
      say(`  open loop at ${tried} req/s (${share} x saturation): p99 ${r.overload.accepted.p99.toFixed(1)} ms`)
      rate = tried
      if (r.overload.accepted.p99 < TARGETS.acceptedP99Ms && r.overload.errors === 0 && r.overload.accepted.count === r.overload.sent) break
    }
    await stopChild('popguard')
  }
  // The shedding under test: the defaults, or POPGUARD_SHED_* from this script's environment.
  const { child: popguard, url } = await start()
  say('warm-up: 3 s, closed loop, 32 connections')
  await closed(url, 3)
  const factor = Number(args.factor)
  const seconds = Number(args.seconds)
  const recoverySeconds = Number(args.recovery)
  const pid = popguard.pid ?? 0
  const rssBefore = rssMb(pid)
  let rssPeak = rssBefore
  const sampler = setInterval(() => { rssPeak = Math.max(rssPeak, rssMb(pid)) }, 200)
  const before = await scrape(url)
  const cpuBefore = cpuMs('popguard')
  const wallBefore = performance.now()
  say(`overload: ${Math.round(rate * factor)} req/s (${factor} x ${rate}) for ${seconds} s, then ${Math.round(rate / 2)} req/s for ${recoverySeconds} s`)
  const progress = setInterval(() => say(`  ... popguard RSS ${rssMb(pid).toFixed(0)} MB`), 5000)
  const r = await openLoop(url, rate * factor, seconds, rate / 2, recoverySeconds)
  clearInterval(progress)
  clearInterval(sampler)
  const wallMs = performance.now() - wallBefore
  const popguardCores = (cpuMs('popguard') - cpuBefore) / wallMs
  const after = await scrape(url)
  const shed = (reason: string): number => value(after, 'popguard_requests_shed_total', { reason }) - value(before, 'popguard_requests_shed_total', { reason })
  redis.close()

  const o = r.overload
  if (r.recovery === null) throw new Error('the generator ran no recovery phase')
  const rec = r.recovery
  const other5xx = Object.entries({ ...o.byStatus }).filter(([s]) => Number(s) >= 500 && s !== '503').reduce((n, [, c]) => n + c, 0)
  const out = (line: string): void => { process.stdout.write(line + '\n') }
  if (!Number.isNaN(saturation)) out(`saturation throughput ${saturation} req/s (closed loop, shedding off); sustainable: the highest of ${SUSTAINABLE_STEPS.join(', ')} x that answered open loop with p99 < ${TARGETS.acceptedP99Ms} ms`)
  out(`sustainable rate ${rate} req/s; overload ${Math.round(rate * factor)} req/s for ${seconds} s (generator sent it in ${o.secondsToSend.toFixed(1)} s)`)
  out(`overload answers: ${JSON.stringify(o.byStatus)}, connection errors ${o.errors}; shed by limit: in_flight ${shed('in_flight')}, event_loop_delay ${shed('event_loop_delay')}, heap ${shed('heap')}`)
  out(`accepted: ${o.accepted.count} (${(o.accepted.count / seconds).toFixed(0)} req/s), p50 ${o.accepted.p50.toFixed(1)} ms, p99 ${o.accepted.p99.toFixed(1)} ms, p99.9 ${o.accepted.p999.toFixed(1)} ms`)
  const answers = Object.values(o.byStatus).reduce((n, c) => n + c, 0) + Object.values(rec.byStatus).reduce((n, c) => n + c, 0)
  out(`CPU over both phases: popguard ${(popguardCores * wallMs * 1000 / answers).toFixed(0)} us per answer (${o.accepted.count + rec.accepted.count} decisions, the rest 503), ${popguardCores.toFixed(2)} cores${cpuLimit === null ? ' (no limit)' : ` (limit ${cpus})`}, generator ${(r.generatorCpuMs / wallMs).toFixed(2)} cores; most requests waiting in the generator for a socket: ${Math.max(o.maxQueuedInGenerator, rec.maxQueuedInGenerator)} (${args.sockets} sockets)`)
  out(`recovery phase: ${JSON.stringify(rec.byStatus)}, p99 ${rec.accepted.p99.toFixed(1)} ms`)
  if (args.timeline === true) {
    out('timeline (by the time requests were due; 0.5 s each): from s, accepted, shed, slowest accepted ms')
    for (const [name, p] of [['overload', o], ['recovery', rec]] as const) {
      out(`  ${name}: ${p.timeline.map((b) => `${b.fromS}:${b.accepted}/${b.shed}/${b.maxMs.toFixed(0)}`).join(' ')}`)
    }
  }
  const checks: [string, boolean, string][] = [
    [`accepted p99 < ${TARGETS.acceptedP99Ms} ms`, o.accepted.p99 < TARGETS.acceptedP99Ms, `${o.accepted.p99.toFixed(1)} ms`],
    ['no degraded answers (Redis healthy)', o.degraded + rec.degraded === 0, `${o.degraded} + ${rec.degraded}`],
    ['no 5xx but 503, no connection errors', other5xx === 0 && o.errors + rec.errors === 0, `${other5xx} 5xx, ${o.errors + rec.errors} errors`],
    ['overload is shed (503 with Retry-After)', (o.byStatus['503'] ?? 0) > 0, `${o.byStatus['503'] ?? 0} x 503`],
    [`RSS bounded (peak <= ${TARGETS.rssGrowth} x before)`, rssPeak <= rssBefore * TARGETS.rssGrowth, `${rssBefore.toFixed(0)} -> peak ${rssPeak.toFixed(0)} MB`],
    [`recovery <= ${TARGETS.recoveryMs} ms`, r.recoveredAfterMs <= TARGETS.recoveryMs, `${r.recoveredAfterMs.toFixed(0)} ms`]
  ]
  if (o.secondsToSend > seconds * 1.1) out(`note: the generator fell behind (${o.secondsToSend.toFixed(1)} s to send ${seconds} s of load): the overload was less than ${factor}x`)
  for (const [what, ok, measured] of checks) out(`${ok ? 'PASS' : 'FAIL'}  ${what.padEnd(44)} ${measured}`)
  return checks.every(([, ok]) => ok)
}

let ok = false
try {
  ok = await main()
} finally {
  await stopAll()
  ;(cpuLimit as CpuLimit | null)?.remove()
}
process.exit(ok ? 0 : 1)
