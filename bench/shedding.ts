/**
 * Load shedding under overload: popguard on its own Redis is driven open-loop at `--factor` (3)
 * times its sustainable rate, then at half that rate to watch it recover. Prints the accepted
 * requests' p99, the `degraded` answers (Redis stays healthy, so there must be none), popguard's
 * RSS, the 503s by limit, and the time from the end of the overload until decisions are answered
 * again within 50 ms, each with PASS/FAIL against issue 13's targets. docs/benchmark.md, "Load shedding".
 *
 *   npm run bench:shedding -- [--rate N] [--factor 3] [--seconds 10] [--recovery 5] [--skip-build]
 *
 * --rate: the sustainable rate (req/s); without it, measured first (closed loop, 32 connections).
 * POPGUARD_SHED_* in the environment reach popguard (README), to try other limits.
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs, promisify } from 'node:util'
import { parseSamples, type Sample } from '../test/helpers/metrics.js'
import { closedLoad, decideBody, type Workload } from './lib/load.js'
import { buildPopguard, removeOnExit, startBuiltPopguard, stopAll } from './lib/processes.js'
import { startRedis } from './lib/redis.js'
import type { ClientResult } from './shedding-client.js'

type UniformWorkload = Extract<Workload, { kind: 'uniform' }>

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const POLICY = join(ROOT, 'bench/policy.json')
const CLIENT_KEY = 'bench-client-key-0001'
const TARGETS = { acceptedP99Ms: 50, recoveryMs: 2000, rssGrowth: 1.5 }
const { values: args } = parseArgs({
  options: {
    rate: { type: 'string' },
    factor: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '10' },
    recovery: { type: 'string', default: '5' },
    measure: { type: 'string', default: '5' },
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
const scrape = async (url: string): Promise<Sample[]> => parseSamples(await (await fetch(`${url}/metrics`)).text())

async function main (): Promise<boolean> {
  if (args['skip-build'] !== true) {
    say('building (npm run build)')
    buildPopguard()
  }
  const dir = mkdtempSync(join(tmpdir(), 'popguard-shedding-'))
  removeOnExit(dir)
  const redis = await startRedis(dir)
  const campaignIds = (JSON.parse(readFileSync(POLICY, 'utf8')) as { campaigns: { id: string }[] }).campaigns.map((c) => c.id)
  const workload: UniformWorkload = { kind: 'uniform', users: 100_000, campaignIds, withRequestId: true }
  const { child: popguard, url } = await startBuiltPopguard({ dir, redisUrl: redis.url(0), policyFile: POLICY, clientKey: CLIENT_KEY })
  const headers = { authorization: `Bearer ${CLIENT_KEY}` }
  const closed = async (seconds: number) => await closedLoad({ url: `${url}/v1/decide`, headers, connections: 32, seconds, body: () => decideBody(workload) })
  say('warm-up: 3 s, closed loop, 32 connections')
  await closed(3)
  let rate = Number(args.rate ?? NaN)
  if (Number.isNaN(rate)) {
    say(`sustainable rate: ${args.measure} s, closed loop, 32 connections`)
    rate = Math.round((await closed(Number(args.measure))).rps)
  }
  const factor = Number(args.factor)
  const seconds = Number(args.seconds)
  const recoverySeconds = Number(args.recovery)
  const pid = popguard.pid ?? 0
  const rssBefore = rssMb(pid)
  let rssPeak = rssBefore
  const sampler = setInterval(() => { rssPeak = Math.max(rssPeak, rssMb(pid)) }, 200)
  const before = await scrape(url)
  say(`overload: ${Math.round(rate * factor)} req/s (${factor} x ${rate}) for ${seconds} s, then ${Math.round(rate / 2)} req/s for ${recoverySeconds} s`)
  const clientArgs = {
    url: `${url}/v1/decide`,
    headers,
    rate: rate * factor,
    overload: seconds,
    recoveryRate: rate / 2,
    recovery: recoverySeconds,
    slowMs: TARGETS.acceptedP99Ms,
    maxSockets: 512,
    workload
  }
  const progress = setInterval(() => say(`  ... popguard RSS ${rssMb(pid).toFixed(0)} MB`), 5000)
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/shedding-client.ts'), JSON.stringify(clientArgs)], { cwd: ROOT, maxBuffer: 1 << 20 })
  clearInterval(progress)
  clearInterval(sampler)
  const r = JSON.parse(stdout) as ClientResult
  const after = await scrape(url)
  const shed = (reason: string): number => value(after, 'popguard_requests_shed_total', { reason }) - value(before, 'popguard_requests_shed_total', { reason })
  redis.close()

  const o = r.overload
  const other5xx = Object.entries({ ...o.byStatus }).filter(([s]) => Number(s) >= 500 && s !== '503').reduce((n, [, c]) => n + c, 0)
  const out = (line: string): void => { process.stdout.write(line + '\n') }
  out(`sustainable rate ${rate} req/s; overload ${Math.round(rate * factor)} req/s for ${seconds} s (generator sent it in ${o.secondsToSend.toFixed(1)} s)`)
  out(`overload answers: ${JSON.stringify(o.byStatus)}, connection errors ${o.errors}; shed by limit: in_flight ${shed('in_flight')}, event_loop_delay ${shed('event_loop_delay')}, heap ${shed('heap')}`)
  out(`accepted: ${o.accepted.count} (${(o.accepted.count / seconds).toFixed(0)} req/s), p50 ${o.accepted.p50.toFixed(1)} ms, p99 ${o.accepted.p99.toFixed(1)} ms, p99.9 ${o.accepted.p999.toFixed(1)} ms`)
  out(`recovery phase: ${JSON.stringify(r.recovery.byStatus)}, p99 ${r.recovery.accepted.p99.toFixed(1)} ms`)
  const checks: [string, boolean, string][] = [
    [`accepted p99 < ${TARGETS.acceptedP99Ms} ms`, o.accepted.p99 < TARGETS.acceptedP99Ms, `${o.accepted.p99.toFixed(1)} ms`],
    ['no degraded answers (Redis healthy)', o.degraded + r.recovery.degraded === 0, `${o.degraded} + ${r.recovery.degraded}`],
    ['no 5xx but 503, no connection errors', other5xx === 0 && o.errors + r.recovery.errors === 0, `${other5xx} 5xx, ${o.errors + r.recovery.errors} errors`],
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
}
process.exit(ok ? 0 : 1)
