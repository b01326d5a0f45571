/**
 * `npm run bench`: popguard's POST /v1/decide against a bare Fastify + one-EVALSHA
 * ceiling, side by side in one run, plus Redis commands and bytes per user.
 * Only ratios measured in the same run mean anything on a shared machine.
 * docs/benchmark.md explains the method and holds the measured numbers.
 */
import { spawn } from 'node:child_process'
import { openSync, readFileSync, readSync, closeSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { bodySource, campaignIdsOf, closedLoad, decideBody, type LoadResult, type Workload } from './lib/load.js'
import { readOptions, usage, type BenchOptions, type Scenario } from './lib/options.js'
import { atStop, benchDir, buildPopguard, cpuMs, freePort, startChild, stopAll, stopChild, waitForHttp } from './lib/processes.js'
import { callsDelta, commandCalls, commandStats, keyCensus, startRedis, usedMemory, type BenchRedis } from './lib/redis.js'
import { int, latencyLine, median, ms, percentiles, type Percentiles } from './lib/stats.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const POLICY = join(ROOT, 'bench/policy.json')
const MEMORY_POLICY = join(ROOT, 'bench/policy-memory.json')
const CLIENT_KEY = 'bench-client-key-0001'
const AUTH = { authorization: `Bearer ${CLIENT_KEY}` }
/**
 * Commands popguard's scripts issue from inside Redis: they share their EVALSHA's round trip.
 * decide.lua: time, get, set, hmget, del, and with a requestId hget, hset, pexpire, hlen (hgetall,
 * hdel when it prunes); agg-flush.lua (report counts, every few seconds, not per decision):
 * hincrby, pfadd, pexpire, set.
 */
const IN_SCRIPT = new Set(['time', 'get', 'set', 'hmget', 'del', 'hget', 'hset', 'hlen', 'hgetall', 'hdel', 'hincrby', 'pfadd', 'pexpire'])
const DB = { popguard: 0, memory: 1, ceiling: 2, realistic: 3 }
/** Seconds of the half-load rate sent first and not measured (see bench/paced-client.ts). */
const HALF_LOAD_WARMUP_S = 2

const t0 = performance.now()
function say (message: string): void {
  const s = ((performance.now() - t0) / 1000).toFixed(1).padStart(6)
  process.stderr.write(`[${s}s] ${message}\n`)
}

interface Target { name: string, url: string }

async function startPopguard (name: string, redisUrl: string, policyFile: string, logLevel: string, logFile: string, extraEnv: Record<string, string> = {}): Promise<Target> {
  const port = await freePort()
  const nodeArgs = (process.env.BENCH_POPGUARD_NODE_ARGS ?? '').split(' ').filter((a) => a !== '')
  await startChild(name, process.execPath, [...nodeArgs, join(ROOT, 'dist/src/server.js')], {
    stdoutFile: logFile,
    env: {
      NODE_ENV: 'production',
      PORT: String(port),
      HOST: '127.0.0.1',
      REDIS_URL: redisUrl,
      LOG_LEVEL: logLevel,
      POPGUARD_POLICY_FILE: policyFile,
      POPGUARD_API_KEYS: `bench:client:${CLIENT_KEY}`,
      POPGUARD_LOG_KEY: 'bench-log-key-0123456789',
      ...extraEnv
    }
  })
  const url = `http://127.0.0.1:${port}`
  await waitForHttp(`${url}/readyz`)
  return { name, url: `${url}/v1/decide` }
}

async function startCeiling (redisUrl: string): Promise<Target> {
  const port = await freePort()
  await startChild('ceiling', process.execPath, ['--import', 'tsx', join(ROOT, 'bench/bare-server.ts')], {
    env: { PORT: String(port), REDIS_URL: redisUrl }
  })
  const url = `http://127.0.0.1:${port}/v1/decide`
  await waitForHttp(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: decideBody({ kind: 'uniform', users: 1, campaignIds: ['spring-sale'], withRequestId: false }) })
  return { name: 'ceiling', url }
}

function build (): void {
  buildPopguard()
}

function fullLoad (t: Target, o: BenchOptions, body: () => string, seconds: number): Promise<LoadResult> {
  return closedLoad({ url: t.url, headers: AUTH, connections: o.connections, seconds, body })
}

function failures (r: LoadResult): string {
  return r.failed > 0 ? `  (${int(r.failed)} failed!)` : ''
}

function concat (parts: Float64Array[]): Float64Array {
  const all = new Float64Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    all.set(p, at)
    at += p.length
  }
  return all
}

interface LoggedDecisions {
  latenciesMs: Float64Array
  decisions: number
  degraded: number
  /** Answered by the over-limit cache (no Redis). */
  cached: number
  /** Decisions with a marketing candidate, and those of them that showed no marketing campaign. */
  marketing: number
  marketingSuppressed: number
}

/** The bench policy's marketing campaigns (bench/policy.json). */
const MARKETING = new Set((JSON.parse(readFileSync(POLICY, 'utf8')) as { campaigns: { id: string, class: string }[] }).campaigns
  .filter((c) => c.class === 'marketing').map((c) => c.id))

/** The decision log lines popguard wrote between two offsets of its log file (and, if given, from a time on). */
function readDecisionLog (file: string, from: number, to: number, sinceEpochMs = 0): LoggedDecisions {
  const fd = openSync(file, 'r')
  const buf = Buffer.alloc(to - from)
  readSync(fd, buf, 0, buf.length, from)
  closeSync(fd)
  const values: number[] = []
  let degraded = 0
  let cached = 0
  let marketing = 0
  let marketingSuppressed = 0
  for (const line of buf.toString('utf8').split('\n')) {
    if (!line.includes('"event":"decision"')) continue
    try {
      const entry = JSON.parse(line) as { latencyMs?: number, degraded?: boolean, time?: number, cache?: boolean, shown?: string | null, candidates?: { campaignId: string }[] }
      if ((entry.time ?? 0) < sinceEpochMs) continue
      if (typeof entry.latencyMs === 'number') values.push(entry.latencyMs)
      if (entry.degraded === true) degraded++
      if (entry.cache === true) cached++
      if (entry.candidates?.some((c) => MARKETING.has(c.campaignId)) === true) {
        marketing++
        if (entry.shown === null || entry.shown === undefined || !MARKETING.has(entry.shown)) marketingSuppressed++
      }
    } catch { /* a line cut at the offset */ }
  }
  return { latenciesMs: Float64Array.from(values), decisions: values.length, degraded, cached, marketing, marketingSuppressed }
}

/** Counts what popguard logged while `work` ran. */
async function logged<T> (file: string, work: () => Promise<T>, sinceOf: (result: T) => number = () => 0): Promise<[T, LoggedDecisions]> {
  const from = statSync(file).size
  const result = await work()
  await new Promise((resolve) => setTimeout(resolve, 300)) // the last lines to reach the file
  return [result, readDecisionLog(file, from, statSync(file).size, sinceOf(result))]
}

/** Degraded answers (store timeouts, open circuit) are cheap and would flatter every number. */
const degradedCount = { decisions: 0, degraded: 0 }
function countDegraded (d: LoggedDecisions): string {
  degradedCount.decisions += d.decisions
  degradedCount.degraded += d.degraded
  return d.degraded > 0 ? `  (${int(d.degraded)} of ${int(d.decisions)} decisions DEGRADED: store timeouts)` : ''
}

/** What one request cost, in CPU and in Redis time: less noisy than throughput on a shared machine. */
interface Cost { requests: number, serverMs: number, redisMs: number, loadMs: number, scriptUsec: number, scriptCalls: number }

function emptyCost (): Cost {
  return { requests: 0, serverMs: 0, redisMs: 0, loadMs: 0, scriptUsec: 0, scriptCalls: 0 }
}

async function costOf (t: Target, redis: BenchRedis, into: Cost, work: () => Promise<LoadResult>): Promise<LoadResult> {
  const admin = redis.admin(0)
  const before = { server: cpuMs(t.name), redis: cpuMs('redis-server'), load: process.cpuUsage(), stats: await commandStats(admin) }
  const r = await work()
  const stats = await commandStats(admin)
  into.requests += r.ok + r.failed
  into.serverMs += cpuMs(t.name) - before.server
  into.redisMs += cpuMs('redis-server') - before.redis
  const load = process.cpuUsage(before.load)
  into.loadMs += (load.user + load.system) / 1000
  for (const cmd of ['evalsha', 'eval']) {
    into.scriptUsec += (stats.get(cmd)?.usec ?? 0) - (before.stats.get(cmd)?.usec ?? 0)
    into.scriptCalls += (stats.get(cmd)?.calls ?? 0) - (before.stats.get(cmd)?.calls ?? 0)
  }
  return r
}

function costLine (name: string, c: Cost): string {
  const per = (v: number): string => (v / c.requests).toFixed(3)
  return `CPU per request, ${name}: server ${per(c.serverMs)} ms, redis-server ${per(c.redisMs)} ms, load generator ${per(c.loadMs)} ms; ` +
    `Redis script time ${(c.scriptUsec / c.scriptCalls).toFixed(1)} us/call`
}

/**
 * What the CPU accounting says about the throughput target. With every process on the same
 * cores, throughput goes as 1 / (server + redis-server + load generator CPU per request), so
 * the ratio is predicted by the ceiling's total over popguard's; and even a service layer that
 * cost nothing (popguard's server CPU equal to the ceiling's) would still carry popguard's
 * Redis script: that bound shows how much of the gap no Node-side work can close. Where Redis
 * and the load generator have cores of their own, the server's CPU alone sets the ratio.
 */
function budgetLines (p: Cost, c: Cost): string[] {
  const per = (v: number, x: Cost): number => v / x.requests
  const ceilingTotal = per(c.serverMs, c) + per(c.redisMs, c) + per(c.loadMs, c)
  const popguardTotal = per(p.serverMs, p) + per(p.redisMs, p) + per(p.loadMs, p)
  const zeroCostLayer = per(c.serverMs, c) + per(p.redisMs, p) + per(p.loadMs, p)
  return [
    `CPU model, shared cores: ratio predicted by CPU per request ${(ceilingTotal / popguardTotal).toFixed(3)}; ` +
      `upper bound if popguard's server cost no more than the ceiling's (its Redis script and load kept) ${(ceilingTotal / zeroCostLayer).toFixed(3)}`,
    `CPU model, Redis and load generator on other cores: server CPU ratio ${(per(c.serverMs, c) / per(p.serverMs, p)).toFixed(3)}`
  ]
}

interface Throughput {
  ratios: number[],
  popguardRps: number[],
  ceilingRps: number[],
  popguardFull: Percentiles,
  ceilingFull: Percentiles,
  costs: Map<string, Cost>
  /** popguard's decision log over the measured rounds. */
  log: { decisions: number, cached: number, marketing: number, marketingSuppressed: number }
}

/** Each side's own source of the same requests (a realistic source keeps its users' sessions across rounds). */
interface Sources { popguard: () => string, ceiling: () => string }

async function throughputRounds (pg: Target, ceiling: Target, logFile: string, redis: BenchRedis, o: BenchOptions, src: Sources): Promise<Throughput> {
  say(`warm-up: ${o.warmup} s each side, ${o.connections} connections`)
  const bodyOf = (t: Target): () => string => t === pg ? src.popguard : src.ceiling
  for (const t of [ceiling, pg]) {
    const r = await fullLoad(t, o, bodyOf(t), o.warmup)
    say(`  warm-up ${t.name}: ${int(r.rps)} req/s${failures(r)}`)
  }
  const ratios: number[] = []
  const pgRps: number[] = []
  const ceilRps: number[] = []
  const pgLat: Float64Array[] = []
  const ceilLat: Float64Array[] = []
  const costs = new Map([[pg.name, emptyCost()], [ceiling.name, emptyCost()]])
  const seen = { decisions: 0, cached: 0, marketing: 0, marketingSuppressed: 0 }
  for (let round = 1; round <= o.rounds; round++) {
    // Alternate which side goes first, so a drift in machine load favours neither.
    const order = round % 2 === 1 ? [ceiling, pg] : [pg, ceiling]
    const results = new Map<string, LoadResult>()
    let note = ''
    for (const t of order) {
      say(`round ${round}/${o.rounds}: ${t.name} for ${o.seconds} s`)
      const [r, log] = await logged(logFile, async () => await costOf(t, redis, costs.get(t.name) as Cost, async () => await fullLoad(t, o, bodyOf(t), o.seconds)))
      results.set(t.name, r)
      if (t === pg) {
        note = countDegraded(log)
        seen.decisions += log.decisions
        seen.cached += log.cached
        seen.marketing += log.marketing
        seen.marketingSuppressed += log.marketingSuppressed
      }
    }
    const p = results.get(pg.name) as LoadResult
    const c = results.get(ceiling.name) as LoadResult
    ratios.push(p.rps / c.rps)
    pgRps.push(p.rps)
    ceilRps.push(c.rps)
    pgLat.push(p.latenciesMs)
    ceilLat.push(c.latenciesMs)
    say(`round ${round}: popguard ${int(p.rps)} req/s${failures(p)}, ceiling ${int(c.rps)} req/s${failures(c)}, ratio ${(p.rps / c.rps).toFixed(3)}${note}`)
  }
  return { ratios, popguardRps: pgRps, ceilingRps: ceilRps, popguardFull: percentiles(concat(pgLat)), ceilingFull: percentiles(concat(ceilLat)), costs, log: seen }
}

interface HalfLoad { rate: number, client: Percentiles, server: Percentiles, achieved: number, failed: number }

/** pacedLoad in a child process with a heap of its own (bench/paced-client.ts). */
async function pacedLoadApart (args: { url: string, headers: Record<string, string>, rate: number, seconds: number, warmupSeconds: number, maxSockets: number, workload: Workload }, dir: string): Promise<LoadResult & { measuredFrom: number }> {
  const latencyFile = join(dir, 'paced-latencies.bin')
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/paced-client.ts'), JSON.stringify(args), latencyFile], { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString('utf8') })
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
  if (code !== 0) throw new Error(`paced-client exited with code ${code}`)
  const summary = JSON.parse(out) as Omit<LoadResult, 'latenciesMs'> & { measuredFrom: number }
  const bytes = readFileSync(latencyFile)
  const latenciesMs = new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength))
  return { ...summary, latenciesMs }
}

async function halfLoad (pg: Target, logFile: string, rate: number, o: BenchOptions, w: Workload, dir: string): Promise<HalfLoad> {
  rate = Math.max(1, rate)
  say(`half load: ${int(rate)} req/s paced for ${HALF_LOAD_WARMUP_S} s of warm-up, then ${o.halfSeconds} s measured, from a process of its own`)
  // Only the measured window's decisions: the warm-up's are in the log too.
  const [r, log] = await logged(logFile, async () =>
    await pacedLoadApart({ url: pg.url, headers: AUTH, rate, seconds: o.halfSeconds, warmupSeconds: HALF_LOAD_WARMUP_S, maxSockets: o.connections * 2, workload: w }, dir),
  (result) => result.measuredFrom)
  say(`  half load done: ${int(r.rps)} req/s achieved${failures(r)}${countDegraded(log)}`)
  return { rate, client: percentiles(r.latenciesMs), server: percentiles(log.latenciesMs), achieved: r.rps, failed: r.failed }
}

interface Commands { decisions: number, roundTrips: number, otherPerDecision: number, total: number, breakdown: string, background: string }

/**
 * Round trips are counted from MONITOR, which tells a client's command from one a script
 * issued and names the script of each EVALSHA: the decide script's calls over the decisions
 * are the round trips per decision; what else reached Redis meanwhile (the instance's report
 * flush every few seconds, policy checks) is per instance, not per decision, and shown apart.
 * INFO commandstats gives the calls made inside the scripts.
 */
async function commandsPerDecision (pg: Target, logFile: string, redis: BenchRedis, o: BenchOptions, body: () => string, db: number): Promise<Commands> {
  say(`Redis commands: a batch of ${int(o.batch)} decides`)
  const admin = redis.admin(db)
  const fromClients = new Map<string, number>()
  const monitor = await admin.monitor()
  monitor.on('monitor', (_time: string, args: string[], source: string, database: string) => {
    if (source === 'lua' || Number(database) !== db) return
    const cmd = String(args[0]).toLowerCase()
    const name = cmd === 'evalsha' || cmd === 'eval' ? `${cmd} ${String(args[1]).slice(0, 8)}` : cmd
    fromClients.set(name, (fromClients.get(name) ?? 0) + 1)
  })
  const before = await commandCalls(admin)
  const [r, log] = await logged(logFile, async () =>
    await closedLoad({ url: pg.url, headers: AUTH, connections: o.connections, amount: o.batch, body }))
  const delta = callsDelta(before, await commandCalls(admin))
  monitor.disconnect()
  const note = countDegraded(log)
  if (note !== '') say(`  ${note.trim()}`)
  delta.delete('info') // our own INFO
  fromClients.delete('info')
  // The decide script is the one script called about once per decision; anything else is background.
  const [decideScript, decideCalls] = [...fromClients].filter(([name]) => name.startsWith('eval')).sort((a, b) => b[1] - a[1])[0] ?? ['', 0]
  const others = [...fromClients].filter(([name]) => name !== decideScript)
  const inScript = [...delta].filter(([cmd]) => IN_SCRIPT.has(cmd))
  const total = decideCalls + inScript.reduce((n, [, k]) => n + k, 0)
  const breakdown = [[decideScript, decideCalls] as const, ...inScript.sort((a, b) => b[1] - a[1]).map(([cmd, n]) => [`${cmd} (in scripts)`, n] as const)]
    .map(([name, n]) => `${name} ${(n / r.ok).toFixed(3)}`).join(', ')
  const background = others.length === 0 ? 'none' : others.map(([name, n]) => `${name} x${n}`).join(', ')
  const otherCalls = others.reduce((n, [, k]) => n + k, 0)
  return { decisions: r.ok, roundTrips: decideCalls / r.ok, otherPerDecision: otherCalls / r.ok, total: total / r.ok, breakdown, background }
}

interface Memory { users: number, shown: number, bytesPerUser: number, keysPerUser: number, usedPerUser: number, withoutTtl: string[] }

async function memoryPerUser (redis: BenchRedis, dir: string, o: BenchOptions): Promise<Memory> {
  say(`memory: ${int(o.memoryUsers)} users x 3 shown impressions (policy without cooldown, caps high)`)
  // A generous store deadline: this phase counts bytes, and a machine busy elsewhere must not turn impressions into degraded answers.
  const pg = await startPopguard('popguard-memory', redis.url(DB.memory), MEMORY_POLICY, 'warn', join(dir, 'popguard-memory.log'), { POPGUARD_STORE_TIMEOUT_MS: '2000' })
  const admin = redis.admin(DB.memory)
  const usedBefore = await usedMemory(admin)
  const candidates = [{ campaignId: 'spring-sale' }, { campaignId: 'cashback-weekend' }, { campaignId: 'quick-loan' }]
  let shown = 0
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < o.memoryUsers) {
      const userId = `memory-user-${next++}`
      for (let i = 0; i < 3; i++) {
        const res = await fetch(pg.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...AUTH },
          body: JSON.stringify({ userId, placement: 'home', candidates })
        })
        const answer = await res.json() as { show?: unknown }
        if (res.ok && answer.show !== null && answer.show !== undefined) shown++
      }
    }
  }
  await Promise.all(Array.from({ length: 16 }, worker))
  const usedAfter = await usedMemory(admin)
  await stopChild('popguard-memory')
  const census = await keyCensus(admin)
  return {
    users: o.memoryUsers,
    shown,
    bytesPerUser: census.bytes / o.memoryUsers,
    keysPerUser: census.keys / o.memoryUsers,
    usedPerUser: (usedAfter - usedBefore) / o.memoryUsers,
    withoutTtl: census.withoutTtl
  }
}

function verdict (pass: boolean): string {
  return pass ? 'PASS' : 'FAIL'
}

interface ScenarioResult {
  scenario: Scenario
  tp: Throughput
  half: HalfLoad
  cmds: Commands
  /** Keys the scenario's load left in its database. */
  keys: Awaited<ReturnType<typeof keyCensus>>
}

/**
 * One scenario: its own popguard (realistic: the over-limit cache on, as configured by default;
 * uniform: off, so every decision reaches Redis), full-load rounds against the ceiling with the
 * same requests, half load, and a batch under MONITOR.
 */
async function runScenario (scenario: Scenario, ceiling: Target, redis: BenchRedis, dir: string, o: BenchOptions): Promise<ScenarioResult> {
  const db = scenario === 'realistic' ? DB.realistic : DB.popguard
  const name = `popguard-${scenario}`
  const logFile = join(dir, `${name}.log`)
  const pg = await startPopguard(name, redis.url(db), POLICY, 'info', logFile,
    scenario === 'uniform' ? { POPGUARD_OVERLIMIT_CACHE_MS: '0' } : {})
  say(`== scenario ${scenario}: ${name} (LOG_LEVEL=info, log to a file, over-limit cache ${scenario === 'uniform' ? 'off' : 'on'}) at ${pg.url}`)
  const workload = (seed: number, userPrefix: string): Workload => scenario === 'uniform'
    ? { kind: 'uniform', users: o.users, campaignIds: CAMPAIGN_IDS, withRequestId: o.requestId }
    : { kind: 'realistic', seed, userPrefix, withRequestId: o.requestId }
  // Seeded alike: the ceiling gets the very same requests, in the same order.
  const src = { popguard: bodySource(workload(12, 'user-')), ceiling: bodySource(workload(12, 'user-')) }
  const tp = await throughputRounds(pg, ceiling, logFile, redis, o, src)
  const half = await halfLoad(pg, logFile, median(tp.popguardRps) / 2, o, workload(34, 'half-user-'), dir)
  const cmds = await commandsPerDecision(pg, logFile, redis, o, src.popguard, db)
  await stopChild(name)
  say('TTL check: every key written by the load')
  const keys = await keyCensus(redis.admin(db))
  return { scenario, tp, half, cmds, keys }
}

function scenarioLines (r: ScenarioResult, pgName: string): string[] {
  const { tp, half, cmds } = r
  const ratio = median(tp.ratios)
  const p = tp.costs.get(pgName) as Cost
  const c = tp.costs.get('ceiling') as Cost
  return [
    '',
    `== scenario ${r.scenario} ==`,
    r.scenario === 'realistic'
      ? `load: users arriving with a power-law day of 1-60 requests in sessions of 1-8, 1-3 candidates (10% with a service or critical one), ${o().requestId ? 'a requestId each' : 'no requestId'}, ${o().connections} connections; ` +
        'the ceiling gets the very same requests'
      : `load: ${int(o().users)} users at random, 3 candidates, ${o().requestId ? 'a requestId each' : 'no requestId'}, ${o().connections} connections; over-limit cache off: every decision reaches Redis`,
    `throughput per round (popguard / ceiling req/s): ${tp.ratios.map((x, i) => `${int(tp.popguardRps[i] ?? 0)}/${int(tp.ceilingRps[i] ?? 0)} = ${x.toFixed(3)}`).join('; ')}`,
    `throughput ratio (median of ${tp.ratios.length}): ${ratio.toFixed(3)}  [min ${Math.min(...tp.ratios).toFixed(3)}, max ${Math.max(...tp.ratios).toFixed(3)}]`,
    `decisions in the rounds: ${int(tp.log.decisions)}; answered by the over-limit cache ${pct(tp.log.cached, tp.log.decisions)}, reached Redis ${pct(tp.log.decisions - tp.log.cached, tp.log.decisions)}; ` +
      `marketing requests suppressed (no marketing campaign shown) ${pct(tp.log.marketingSuppressed, tp.log.marketing)} of ${int(tp.log.marketing)}`,
    costLine('popguard', p),
    costLine('ceiling ', c),
    `server CPU per decision, popguard / ceiling: ${(p.serverMs / p.requests / (c.serverMs / c.requests)).toFixed(2)}x`,
    ...budgetLines(p, c),
    latencyLine('full load, popguard, client-side', tp.popguardFull),
    latencyLine('full load, ceiling,  client-side', tp.ceilingFull),
    latencyLine(`half load (${int(half.rate)} req/s paced), popguard, client-side`, half.client),
    latencyLine(`half load (${int(half.rate)} req/s paced), popguard, server-side (decision log latencyMs)`, half.server),
    `Redis commands per decision: ${cmds.roundTrips.toFixed(3)} round trips (${cmds.total.toFixed(3)} counting calls inside scripts) over ${int(cmds.decisions)} decides: ${cmds.breakdown}; ` +
      `meanwhile per instance, not per decision: ${cmds.background}`
  ]
}

let options: BenchOptions | null = null
const o = (): BenchOptions => options as BenchOptions
const pct = (part: number, whole: number): string => whole === 0 ? 'n/a' : `${(100 * part / whole).toFixed(1)}%`
const CAMPAIGN_IDS = campaignIdsOf(POLICY)

async function main (): Promise<void> {
  options = readOptions()
  say(`options: ${JSON.stringify(o())}`)
  if (!o().skipBuild) {
    say('building (npm run build)')
    build()
  }
  const dir = benchDir('bench')
  const redis = await startRedis(dir)
  atStop(redis.close)
  say(`redis-server on port ${redis.port} (--save '' --appendonly no), folder ${dir}`)
  const ceiling = await startCeiling(redis.url(DB.ceiling))
  say(`ceiling at ${ceiling.url}`)

  const scenarios: Scenario[] = o().scenario === 'realistic' ? ['realistic', 'uniform'] : ['uniform']
  const results = new Map<Scenario, ScenarioResult>()
  for (const scenario of scenarios) results.set(scenario, await runScenario(scenario, ceiling, redis, dir, o()))
  const mem = await memoryPerUser(redis, dir, o())
  await stopAll()

  const real = results.get('realistic')
  const uni = results.get('uniform') as ScenarioResult
  const noTtl = [...results.values()].reduce((n, r) => n + r.keys.withoutTtl.length, 0) + mem.withoutTtl.length
  const loadKeys = [...results.values()].reduce((n, r) => n + r.keys.keys, 0)
  const uCost = uni.tp.costs.get('popguard-uniform') as Cost
  const cCost = uni.tp.costs.get('ceiling') as Cost
  const cpuRatio = (uCost.serverMs / uCost.requests) / (cCost.serverMs / cCost.requests)
  const scriptUs = uCost.scriptUsec / uCost.scriptCalls
  const lines = [
    '',
    '== popguard benchmark ==',
    `machine: ${(await import('node:os')).cpus().length} cores, node ${process.version}, load average before the run ${LOAD_AVERAGE}`,
    ...(real === undefined ? [] : scenarioLines(real, 'popguard-realistic')),
    ...scenarioLines(uni, 'popguard-uniform'),
    '',
    `Redis memory: ${int(mem.shown)} of ${int(mem.users * 3)} impressions shown; MEMORY USAGE ${mem.bytesPerUser.toFixed(1)} bytes/user ` +
      `(${mem.keysPerUser.toFixed(2)} keys/user); INFO used_memory delta ${mem.usedPerUser.toFixed(1)} bytes/user`,
    `per-user keys without a TTL: ${noTtl} (of ${int(loadKeys)} left by the loads, and the memory phase's)` +
      (noTtl > 0 ? `: e.g. ${[...[...results.values()].flatMap((r) => r.keys.withoutTtl), ...mem.withoutTtl].slice(0, 3).join(', ')}` : ''),
    `degraded decisions (store deadline missed, answered by onStoreFailure): ${int(degradedCount.degraded)} of ${int(degradedCount.decisions)} logged`,
    '',
    '== targets (issue 12) =='
  ]
  if (real !== undefined) {
    const share = real.tp.log.marketingSuppressed / real.tp.log.marketing
    const ratio = median(real.tp.ratios)
    lines.push(
      `${verdict(share >= 0.65 && share <= 0.80)}  realistic: suppressed marketing share ${pct(real.tp.log.marketingSuppressed, real.tp.log.marketing)} in 65-80% (the scenario itself)`,
      `${verdict(ratio >= 0.9)}  realistic: throughput / ceiling ${ratio.toFixed(3)} >= 0.9`,
      `${verdict(real.cmds.roundTrips <= 0.4)}  realistic: Redis round trips per decision ${real.cmds.roundTrips.toFixed(3)} <= 0.4 ` +
        `(share of decisions reaching Redis in the rounds ${pct(real.tp.log.decisions - real.tp.log.cached, real.tp.log.decisions)})`,
      `${verdict(real.half.server.p99 < 5 && real.half.server.p999 < 15)}  realistic: server-side p99 / p99.9 at half load ${ms(real.half.server.p99)} / ${ms(real.half.server.p999)} < 5 / 15 ms`
    )
  }
  const uRatio = median(uni.tp.ratios)
  lines.push(
    `${verdict(cpuRatio <= 1.6)}  uniform: server CPU per decision / ceiling's ${cpuRatio.toFixed(2)}x <= 1.6x`,
    `${verdict(scriptUs <= 20)}  uniform: decide.lua time per call ${scriptUs.toFixed(1)} us <= 20 us (INFO commandstats, EVALSHA usec / calls)`,
    `${verdict(uRatio >= 0.6)}  uniform: throughput / ceiling ${uRatio.toFixed(3)} >= 0.6`,
    `${verdict(uni.half.server.p99 < 5 && uni.half.server.p999 < 15)}  uniform: server-side p99 / p99.9 at half load ${ms(uni.half.server.p99)} / ${ms(uni.half.server.p999)} < 5 / 15 ms`,
    // Exactly one decide EVALSHA per decision that reaches Redis, and nothing else at a per-decision rate (background stays under 1%).
    `${verdict(Math.abs(uni.cmds.roundTrips - 1) < 1e-9 && uni.cmds.otherPerDecision < 0.01)}  Redis round trips on a cache miss (uniform, cache off) ${uni.cmds.roundTrips.toFixed(3)} == 1 ` +
      `(other commands ${uni.cmds.otherPerDecision.toFixed(4)} per decision < 0.01)`,
    `${verdict(mem.bytesPerUser <= 300 && mem.shown === mem.users * 3)}  Redis bytes per user with 3 impressions ${mem.bytesPerUser.toFixed(1)} <= 300`,
    `${verdict(noTtl === 0)}  every per-user key has a TTL`,
    `${verdict(degradedCount.degraded === 0)}  no degraded decision (otherwise the numbers above flatter popguard)`
  )
  process.stdout.write(lines.join('\n') + '\n')
  say('done')
  process.exit(0)
}

const LOAD_AVERAGE = (await import('node:os')).loadavg().map((x) => x.toFixed(2)).join(' ')

let interrupted = false
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) process.exit(130)
    interrupted = true
    say(`${signal}: stopping everything the benchmark started`)
    stopAll().finally(() => process.exit(130))
  })
}

main().catch(async (err: unknown) => {
  process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`)
  if (/must be (a whole number|realistic or uniform)/.test((err as Error).message)) process.stderr.write(usage() + '\n')
  await stopAll()
  process.exit(1)
})
