/**
 * Horizontal scale on one machine: 1, 2, 3 popguard processes (the production build in dist/,
 * NODE_ENV=production), each limited to `--cpus` of a core (a CFS quota, as a pod's CPU limit:
 * lib/cpu-limit.ts), on a Redis Cluster of three masters, driven by one load generator (this
 * process: raw keep-alive sockets, closed loop, the connections split evenly over the instances,
 * as a load balancer would). The limit is what lets a 2-core machine show scale: without it the
 * first instance takes every core the generator and Redis leave, and a second can only compete.
 * For each instance count it prints decisions/s, popguard CPU per decision (all instances' CPU
 * from /proc over the decisions), each shard's redis-server CPU (INFO cpu: share of a core, and
 * per decision), the instances' CPU with no load (2 s after the warm-up), the generator's own
 * CPU and all of them together (where that nears the machine's cores, the cores have run out).
 * Separate ports rather than node's cluster module behind one port: that is how a deployment
 * runs them (one process per container or pod behind a load balancer), and it keeps each
 * process's CPU apart (and under its own limit).
 * docs/benchmark.md, "Horizontal scale".
 *
 *   npm run bench:scale -- [--instances 1,2,3] [--cpus 0.6] [--seconds 10] [--warmup 3] [--connections 48] [--skip-build]
 *
 * --cpus 0: no limit; on a machine with fewer cores than instances + shards + the generator the
 * figure is then where the cores run out, not how far popguard scales. Needs root for the limit.
 */
import { cpus, loadavg } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { Redis } from 'ioredis'
import { startRedisCluster, type ClusterNode } from '../test/helpers/redis-cluster.js'
import { createCpuLimit, cpuLimitSupport, type CpuLimit } from './lib/cpu-limit.js'
import { campaignIdsOf, decideBody, type Workload } from './lib/load.js'
import { buildPopguard, cpuMs, freePort, startChild, stopAll, stopChild, waitForHttp } from './lib/processes.js'
import { closedRawLoad } from './lib/raw-http.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const POLICY = join(ROOT, 'bench/policy.json')
const CLIENT_KEY = 'bench-client-key-0001'
const { values: args } = parseArgs({
  options: {
    instances: { type: 'string', default: '1,2,3' },
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    connections: { type: 'string', default: '48' },
    cpus: { type: 'string', default: '0.6' },
    users: { type: 'string', default: '100000' },
    'skip-build': { type: 'boolean', default: false }
  }
})
const COUNTS = (args.instances ?? '1,2,3').split(',').map(Number)
const SECONDS = Number(args.seconds)
const WARMUP = Number(args.warmup)
const CONNECTIONS = Number(args.connections)
const CPUS = Number(args.cpus)
const limits: CpuLimit[] = []
if (COUNTS.some((n) => !Number.isInteger(n) || n < 1) || !(SECONDS > 0) || !(WARMUP >= 0) || !(CONNECTIONS >= 1) || !(CPUS >= 0)) {
  throw new Error('--instances is a list of whole numbers (1,2,3); --seconds, --warmup, --connections and --cpus positive numbers (--cpus 0: no limit)')
}

const t0 = performance.now()
const say = (m: string): void => { process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(1).padStart(6)}s] ${m}\n`) }
const load = (): string => loadavg().map((l) => l.toFixed(2)).join(' ')

/** redis-server CPU (user + sys, ms) of each master, from INFO cpu. */
async function redisCpuMs (clients: Redis[]): Promise<number[]> {
  return await Promise.all(clients.map(async (c) => {
    const info = await c.info('cpu')
    const field = (name: string): number => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? NaN)
    return (field('used_cpu_user') + field('used_cpu_sys')) * 1000
  }))
}

interface Row { instances: number, idleCores: number, rps: number, failed: number, popguardCpuMsPerDecision: number, popguardCores: number, shardCores: number[], redisCpuMsPerDecision: number, generatorCores: number }

async function runWith (count: number, nodes: ClusterNode[], shards: Redis[], workload: Workload): Promise<Row> {
  say(`${count} instance(s): starting`)
  const names: string[] = []
  const urls: string[] = []
  for (let k = 0; k < count; k++) {
    const port = await freePort()
    const name = `popguard-${count}-${k}`
    const child = await startChild(name, process.execPath, [join(ROOT, 'dist/src/server.js')], {
      env: {
        NODE_ENV: 'production',
        PORT: String(port),
        HOST: '127.0.0.1',
        REDIS_CLUSTER_NODES: nodes.map((n) => `${n.host}:${n.port}`).join(','),
        LOG_LEVEL: 'warn',
        POPGUARD_POLICY_FILE: POLICY,
        POPGUARD_API_KEYS: `bench:client:${CLIENT_KEY}`,
        POPGUARD_LOG_KEY: 'bench-log-key-0123456789',
        POPGUARD_KEY_PREFIX: `pg:scale:${count}:`,
        // Throughput, not shedding: a starved shared machine would shed (503) on loop delay alone.
        POPGUARD_SHED_MAX_EVENT_LOOP_DELAY_MS: process.env.POPGUARD_SHED_MAX_EVENT_LOOP_DELAY_MS ?? '0',
        POPGUARD_SHED_MAX_PER_TURN: process.env.POPGUARD_SHED_MAX_PER_TURN ?? '0'
      }
    })
    names.push(name)
    urls.push(`http://127.0.0.1:${port}`)
    await waitForHttp(`${urls.at(-1)!}/readyz`)
    if (CPUS > 0) {
      const limit = createCpuLimit(name, CPUS)
      limit.add(child.pid ?? 0)
      limits.push(limit)
    }
  }
  const headers = { authorization: `Bearer ${CLIENT_KEY}` }
  // One generator, the connections split evenly over the instances (a round-robin balancer).
  const drive = async (seconds: number) => await Promise.all(urls.map(async (url, k) => await closedRawLoad({
    url: `${url}/v1/decide`,
    headers,
    connections: Math.floor(CONNECTIONS / count) + (k < CONNECTIONS % count ? 1 : 0),
    seconds,
    body: () => decideBody(workload as Extract<Workload, { kind: 'uniform' }>)
  })))
  if (WARMUP > 0) {
    say(`${count} instance(s): warm-up ${WARMUP} s, ${CONNECTIONS} connections`)
    await drive(WARMUP)
  }
  // What the instances use with no load at all (timers, metrics, governance checks, report flushes).
  const idleBefore = names.map(cpuMs)
  const idleWall = performance.now()
  await new Promise((resolve) => setTimeout(resolve, 2000))
  const idleCores = names.map(cpuMs).reduce((n, c, k) => n + c - (idleBefore[k] ?? NaN), 0) / (performance.now() - idleWall)
  say(`${count} instance(s): measuring ${SECONDS} s (load average ${load()})`)
  const cpuBefore = names.map(cpuMs)
  const redisBefore = await redisCpuMs(shards)
  const genBefore = process.cpuUsage()
  const wallBefore = performance.now()
  const progress = setInterval(() => say(`  ... ${count} instance(s), load average ${load()}`), 5000)
  const results = await drive(SECONDS)
  clearInterval(progress)
  const wallMs = performance.now() - wallBefore
  const gen = process.cpuUsage(genBefore)
  const redisAfter = await redisCpuMs(shards)
  const cpuAfter = names.map(cpuMs)
  for (const name of names) await stopChild(name)

  const ok = results.reduce((n, r) => n + r.ok, 0)
  const failed = results.reduce((n, r) => n + r.failed, 0)
  const popguardMs = cpuAfter.reduce((n, c, k) => n + c - (cpuBefore[k] ?? NaN), 0)
  const shardMs = redisAfter.map((c, k) => c - (redisBefore[k] ?? NaN))
  const row: Row = {
    instances: count,
    idleCores,
    rps: ok / (wallMs / 1000),
    failed,
    popguardCpuMsPerDecision: popguardMs / ok,
    popguardCores: popguardMs / wallMs,
    shardCores: shardMs.map((m) => m / wallMs),
    redisCpuMsPerDecision: shardMs.reduce((a, b) => a + b, 0) / ok,
    generatorCores: (gen.user + gen.system) / 1000 / wallMs
  }
  say(`${count} instance(s): ${Math.round(row.rps)} decisions/s, ${failed} failed`)
  return row
}

async function main (): Promise<void> {
  const unsupported = CPUS > 0 ? cpuLimitSupport() : null
  if (unsupported !== null) throw new Error(`--cpus ${CPUS} needs a CPU limit per instance, and here: ${unsupported}. Run as root, or with --cpus 0 (then read the CPU columns)`)
  if (args['skip-build'] !== true) {
    say('building (npm run build)')
    buildPopguard()
  }
  say('starting a Redis Cluster of 3 masters (no replicas)')
  const cluster = await startRedisCluster({ masters: 3 })
  const shards = (await cluster.masters()).map((n) => {
    const c = new Redis({ host: n.host, port: n.port, maxRetriesPerRequest: 1 })
    c.on('error', () => {})
    return c
  })
  try {
    const campaignIds = campaignIdsOf(POLICY)
    const workload: Workload = { kind: 'uniform', users: Number(args.users), campaignIds, withRequestId: true }
    const loadBefore = load()
    const rows: Row[] = []
    for (const count of COUNTS) rows.push(await runWith(count, cluster.nodes, shards, workload))
    const out = (line: string): void => { process.stdout.write(line + '\n') }
    out(`${cpus().length} cores; load average before ${loadBefore}, after ${load()}; ${CPUS > 0 ? `each instance limited to ${CPUS} of a core` : 'no CPU limit'}; ${CONNECTIONS} connections, ${SECONDS} s per instance count, uniform workload over ${args.users} users`)
    out('| instances | decisions/s | x 1 instance | failed | popguard CPU ms/decision | popguard cores | popguard cores idle | redis cores per shard | redis CPU ms/decision (all shards) | generator cores | cores used in all |')
    out('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |')
    const base = rows[0]?.rps ?? NaN
    for (const r of rows) {
      out(`| ${r.instances} | ${Math.round(r.rps)} | ${(r.rps / base).toFixed(2)} | ${r.failed} | ${r.popguardCpuMsPerDecision.toFixed(3)} | ${r.popguardCores.toFixed(2)} | ${r.idleCores.toFixed(2)} | ${r.shardCores.map((c) => c.toFixed(2)).join(' / ')} | ${r.redisCpuMsPerDecision.toFixed(3)} | ${r.generatorCores.toFixed(2)} | ${(r.popguardCores + r.shardCores.reduce((a, b) => a + b, 0) + r.generatorCores).toFixed(2)} |`)
    }
  } finally {
    for (const c of shards) c.disconnect()
    await cluster.stop()
  }
}

try {
  await main()
} finally {
  await stopAll()
  for (const limit of limits) limit.remove()
}
