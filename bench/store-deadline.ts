/**
 * The store deadline under load, with Redis healthy: how many decisions come back `degraded`,
 * how many of those still left a reservation in Redis (a pop-up never shown that counts against
 * the user's caps), how long store calls take, and how late popguard's event loop runs, at and
 * beyond saturation. docs/benchmark.md ("The store deadline") has the method and the numbers.
 *
 *   npx tsx bench/store-deadline.ts [--server dist/src/server.js] [--timeout 50] [--connections 32,128,512]
 *                                   [--seconds 10] [--skip-build]
 *
 * --server runs another build (e.g. main's, to compare); without --skip-build this checkout is built first.
 */
import { execFile } from 'node:child_process'
import { openSync, readSync, closeSync, statSync } from 'node:fs'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs, promisify } from 'node:util'
import type { Redis } from 'ioredis'
import { decodeLedger } from '../src/redis/user-store/ledger-codec.js'
import { parseSamples, type Sample } from '../test/helpers/metrics.js'
import { campaignIdsOf, closedLoad, decideBody, type Workload } from './lib/load.js'
import { benchDir, buildPopguard, freePort, startChild, stopAll, waitForHttp } from './lib/processes.js'
import { startRedis } from './lib/redis.js'
import { percentiles } from './lib/stats.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const POLICY = join(ROOT, 'bench/policy.json')
const CLIENT_KEY = 'bench-client-key-0001'
const { values: args } = parseArgs({
  options: {
    server: { type: 'string', default: join(ROOT, 'dist/src/server.js') },
    timeout: { type: 'string', default: '50' },
    connections: { type: 'string', default: '32,128,512' },
    seconds: { type: 'string', default: '10' },
    'skip-build': { type: 'boolean', default: false }
  }
})
const seconds = Number(args.seconds)
const levels = args.connections.split(',').map(Number)

const t0 = performance.now()
const say = (m: string): void => { process.stdout.write(`[${((performance.now() - t0) / 1000).toFixed(1).padStart(6)}s] ${m}\n`) }

/** The fraction of decide calls slower than each bucket bound, from the store-call histogram (deltas over the load). */
function slowerThan (before: Sample[], after: Sample[], bounds: number[]): string {
  const count = (samples: Sample[], le: string): number => samples
    .filter((s) => s.name === 'popguard_store_call_duration_seconds_bucket' && s.labels.op === 'decide' && s.labels.le === le)
    .reduce((n, s) => n + s.value, 0)
  const total = count(after, '+Inf') - count(before, '+Inf')
  return bounds.map((b) => `>${b * 1000}ms ${((total - (count(after, String(b)) - count(before, String(b)))) / total * 100).toFixed(2)}%`).join(' ')
}

const value = (samples: Sample[], name: string, labels: Record<string, string> = {}): number => samples
  .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((n, s) => n + s.value, 0)

/** Decision log lines written since `from`: server-side latencies and the nonces of degraded decisions. */
function decisionsSince (file: string, from: number): { latencies: Float64Array, degraded: Set<string>, count: number } {
  const to = statSync(file).size
  const fd = openSync(file, 'r')
  const buf = Buffer.alloc(to - from)
  readSync(fd, buf, 0, buf.length, from)
  closeSync(fd)
  const latencies: number[] = []
  const degraded = new Set<string>()
  for (const line of buf.toString('utf8').split('\n')) {
    if (!line.includes('"event":"decision"')) continue
    try {
      const e = JSON.parse(line) as { latencyMs: number, degraded: boolean, decisionId: string }
      latencies.push(e.latencyMs)
      if (e.degraded) degraded.add(e.decisionId.slice(0, 8))
    } catch { /* a line cut at the offset */ }
  }
  return { latencies: Float64Array.from(latencies), degraded, count: latencies.length }
}

/** Ledger records whose nonce belongs to a decision answered `degraded`: reservations for pop-ups the client never got. */
async function phantomReservations (redis: Redis, degraded: Set<string>): Promise<number> {
  let found = 0
  let cursor = '0'
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', '*:l', 'COUNT', 1000)
    cursor = next
    if (keys.length === 0) continue
    for (const raw of await redis.mget(...keys)) {
      for (const r of decodeLedger(raw ?? '')) if (degraded.has(r.nonce)) found++
    }
  } while (cursor !== '0')
  return found
}

async function scrape (url: string): Promise<Sample[]> {
  return parseSamples(await (await fetch(`${url}/metrics`)).text())
}

async function main (): Promise<void> {
  if (args['skip-build'] !== true) {
    buildPopguard()
  }
  const dir = benchDir('deadline')
  const redis = await startRedis(dir)
  const campaignIds = campaignIdsOf(POLICY)
  const workload: Workload & { kind: 'uniform' } = { kind: 'uniform', users: 100_000, campaignIds, withRequestId: true }
  const port = await freePort()
  const logFile = join(dir, 'popguard.log')
  await startChild('popguard', process.execPath, [args.server], {
    stdoutFile: logFile,
    env: {
      NODE_ENV: 'production',
      PORT: String(port),
      HOST: '127.0.0.1',
      REDIS_URL: redis.url(0),
      LOG_LEVEL: 'info',
      POPGUARD_POLICY_FILE: POLICY,
      POPGUARD_API_KEYS: `bench:client:${CLIENT_KEY}`,
      POPGUARD_LOG_KEY: 'bench-log-key-0123456789',
      POPGUARD_STORE_TIMEOUT_MS: args.timeout
    }
  })
  const url = `http://127.0.0.1:${port}`
  await waitForHttp(`${url}/readyz`)
  const load = async (connections: number, s: number) => await closedLoad({
    url: `${url}/v1/decide`, headers: { authorization: `Bearer ${CLIENT_KEY}` }, connections, seconds: s, body: () => decideBody(workload)
  })
  say(`${args.server}, store timeout ${args.timeout} ms; warm-up 3 s at 32 connections`)
  await load(32, 3)
  for (const connections of levels) {
    await redis.admin(0).flushdb()
    const before = await scrape(url)
    const from = statSync(logFile).size
    // The prober ends by itself after the same seconds as the load.
    const prober = promisify(execFile)(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/redis-prober.ts'), redis.url(0), String(seconds)], { cwd: ROOT })
    const loadAvg = loadavg()[0]?.toFixed(1)
    const r = await load(connections, seconds)
    const probe = JSON.parse((await prober).stdout) as { p50: number, p99: number, p999: number, max: number }
    await new Promise((resolve) => setTimeout(resolve, 500)) // scripts Redis still held, and the last log lines
    const after = await scrape(url)
    const d = decisionsSince(logFile, from)
    const phantoms = await phantomReservations(redis.admin(0), d.degraded)
    const server = percentiles(d.latencies)
    const delta = (name: string, labels: Record<string, string> = {}): number => value(after, name, labels) - value(before, name, labels)
    say(`${connections} connections (load average ${loadAvg ?? '?'}): ${Math.round(r.rps)} req/s, ${d.count} decisions, ` +
      `${d.degraded.size} degraded (store faults ${delta('popguard_store_errors_total', { op: 'decide' })}, late scripts ${delta('popguard_store_late_scripts_total')}), ` +
      `${phantoms} reservations left by degraded decisions`)
    say(`  decide store calls: ${slowerThan(before, after, [0.025, 0.05, 0.1])}; server-side decision p99 ${server.p99.toFixed(1)} ms, p99.9 ${server.p999.toFixed(1)} ms`)
    say(`  event loop delay (popguard): p99 ${(value(after, 'nodejs_eventloop_lag_p99_seconds') * 1000).toFixed(1)} ms, max ${(value(after, 'nodejs_eventloop_lag_max_seconds') * 1000).toFixed(1)} ms; ` +
      `Redis PING from an idle client: p50 ${probe.p50.toFixed(2)} p99 ${probe.p99.toFixed(2)} p99.9 ${probe.p999.toFixed(2)} max ${probe.max.toFixed(2)} ms`)
  }
  redis.close()
}

try {
  await main()
} finally {
  await stopAll()
}
