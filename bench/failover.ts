/**
 * A master failover under load, measured: popguard (two instances) on Redis with Sentinel (one
 * master, two replicas, three sentinels), steady decide load, a set of users driven to their cap
 * (3 a day) while the master is SIGKILLed halfway through, then asked again after the replica has
 * taken over. Prints, for the default (asynchronous replication) and for strict mode
 * (POPGUARD_REDIS_WAIT_REPLICAS=1: WAIT after each decision) side by side: how long decisions were
 * degraded, the 5xx answers, the shows above the cap the failover let through (lost writes), and
 * the decide latency before the fault. docs/benchmark.md, "Failover".
 *
 *   npm run bench:failover -- [--users 2000] [--steady-rate 400] [--topology sentinel|cluster] [--skip-build]
 *
 * --topology cluster: a Redis Cluster of three masters with two replicas each (cluster-node-timeout
 * 1000); one master is killed, so about a third of the users and of the steady load are affected.
 */
import { writeFileSync } from 'node:fs'
import { Agent, request } from 'node:http'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { startRedisCluster } from '../test/helpers/redis-cluster.js'
import { startRedisSentinel } from '../test/helpers/redis-sentinel.js'
import { benchDir, buildPopguard, freePort, startChild, stopAll, stopChild, waitForHttp } from './lib/processes.js'
import { percentiles } from './lib/stats.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const CLIENT_KEY = 'bench-client-key-0001'
const CAP = 3
const { values: args } = parseArgs({
  options: {
    users: { type: 'string', default: '2000' },
    topology: { type: 'string', default: 'sentinel' },
    'steady-rate': { type: 'string', default: '400' },
    'skip-build': { type: 'boolean', default: false }
  }
})
const USERS = Number(args.users)
const STEADY_RATE = Number(args['steady-rate'])

const t0 = performance.now()
const say = (m: string): void => { process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(1).padStart(6)}s] ${m}\n`) }
const sleep = async (ms: number): Promise<void> => await new Promise((resolve) => setTimeout(resolve, ms))

interface Answer { at: number, ms: number, status: number, shown: boolean, degraded: boolean }

const agent = new Agent({ keepAlive: true, maxSockets: 64 })
function decide (base: string, userId: string): Promise<Answer> {
  const body = JSON.stringify({ userId, placement: 'home', candidates: [{ campaignId: 'a' }, { campaignId: 'b' }, { campaignId: 'c' }] })
  const started = performance.now()
  return new Promise((resolve) => {
    const url = new URL('/v1/decide', base)
    const req = request({
      agent,
      host: url.hostname,
      port: url.port,
      path: url.pathname,
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${CLIENT_KEY}` }
    }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString()
        const ok = res.statusCode === 200
        resolve({
          at: performance.now(),
          ms: performance.now() - started,
          status: res.statusCode ?? 0,
          shown: ok && (JSON.parse(text) as { show: unknown }).show !== null,
          degraded: ok && text.includes('"degraded"')
        })
      })
    })
    req.on('error', () => resolve({ at: performance.now(), ms: performance.now() - started, status: 0, shown: false, degraded: false }))
    req.end(body)
  })
}

/** Runs `jobs` with `concurrency` at a time. */
async function pool<T> (count: number, concurrency: number, job: (i: number) => Promise<T>, onStarted?: (started: number) => void): Promise<T[]> {
  const results: T[] = new Array(count)
  let next = 0
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) {
      const i = next++
      onStarted?.(next)
      results[i] = await job(i)
    }
  }))
  return results
}

const TOPOLOGY = args.topology
if (TOPOLOGY !== 'sentinel' && TOPOLOGY !== 'cluster') throw new Error('--topology is sentinel or cluster')

interface BenchRedis { env: Record<string, string>, killMaster: () => Promise<number>, newMaster: (old: number) => Promise<boolean>, stop: () => Promise<void> }

/** Sentinel (one master) or a Redis Cluster (three masters: the one killed holds a third of the users). */
async function startRedis (): Promise<BenchRedis> {
  if (TOPOLOGY === 'cluster') {
    const cluster = await startRedisCluster({ masters: 3, replicas: 2, nodeTimeoutMs: 1000 })
    return {
      env: { REDIS_CLUSTER_NODES: cluster.nodes.map((n) => `${n.host}:${n.port}`).join(',') },
      killMaster: async () => {
        const victim = (await cluster.masters())[0]
        if (victim === undefined) throw new Error('no master to kill')
        await cluster.kill(victim.port)
        return victim.port
      },
      newMaster: async (old) => { const m = await cluster.masters(); return m.length === 3 && !m.some((n) => n.port === old) },
      stop: cluster.stop
    }
  }
  const sentinel = await startRedisSentinel({ downAfterMs: 1000, replicas: 2 })
  return {
    env: { REDIS_SENTINELS: sentinel.sentinels.map((s) => `${s.host}:${s.port}`).join(','), REDIS_SENTINEL_NAME: sentinel.name },
    killMaster: async () => (await sentinel.killMaster()).port,
    newMaster: async (old) => (await sentinel.master().catch(() => ({ port: old }))).port !== old,
    stop: sentinel.stop
  }
}

interface ModeResult { degradedSeconds: number, promotedAfter: number, degradedBefore: number, fiveXx: number, shed: number, shedBefore: number, errors: number, overCap: number, cappedUsers: number, p50: number, p99: number, recovered: boolean }

async function runMode (name: string, policyFile: string, extraEnv: Record<string, string>): Promise<ModeResult> {
  say(`${name}: starting Redis (${TOPOLOGY === 'cluster' ? '3 masters with 2 replicas each' : 'master, 2 replicas, 3 sentinels'}) and two popguard instances`)
  // Two replicas: after the failover the new master still has one, which strict mode's WAIT 1 needs.
  const redis = await startRedis()
  const urls: string[] = []
  try {
    for (const instance of ['a', 'b']) {
      const port = await freePort()
      await startChild(`popguard-${instance}`, process.execPath, [join(ROOT, 'dist/src/server.js')], {
        env: {
          NODE_ENV: 'production',
          PORT: String(port),
          HOST: '127.0.0.1',
          ...redis.env,
          LOG_LEVEL: 'warn',
          POPGUARD_POLICY_FILE: policyFile,
          POPGUARD_API_KEYS: `bench:client:${CLIENT_KEY}`,
          POPGUARD_LOG_KEY: 'bench-log-key-0123456789',
          POPGUARD_KEY_PREFIX: `pg:failover:${name}:`,
          // This measures the failover, not load shedding: a busy machine's event loop would shed (503) on its own.
          POPGUARD_SHED_MAX_EVENT_LOOP_DELAY_MS: process.env.POPGUARD_SHED_MAX_EVENT_LOOP_DELAY_MS ?? '0',
          POPGUARD_SHED_MAX_PER_TURN: process.env.POPGUARD_SHED_MAX_PER_TURN ?? '0',
          ...extraEnv
        }
      })
      urls.push(`http://127.0.0.1:${port}`)
      await waitForHttp(`${urls.at(-1)!}/readyz`)
    }
    // Steady load: both instances, random users, paced.
    const steady: Answer[] = []
    const steadyState = { stop: false }
    const steadyLoop = (async () => {
      let i = 0
      const started = performance.now()
      const inFlight = new Set<Promise<void>>()
      while (!steadyState.stop) {
        const due = Math.floor((performance.now() - started) * STEADY_RATE / 1000)
        while (i < due) {
          const p = decide(urls[i % 2]!, `steady-${Math.floor(Math.random() * 100_000)}`).then((a) => { steady.push(a) })
          inFlight.add(p)
          p.finally(() => inFlight.delete(p)).catch(() => {})
          i++
        }
        await sleep(2)
      }
      await Promise.all(inFlight)
    })()
    await sleep(2000)
    const baseline = percentiles(Float64Array.from(steady.filter((a) => a.status === 200).map((a) => a.ms)))
    // Drive users to their cap; the master dies halfway through.
    let killedAt = 0
    let promotedAfter = NaN
    const total = USERS * CAP
    say(`${name}: driving ${USERS} users to their cap (${total} decides); SIGKILL of the master after ${total / 2}`)
    const drive = await pool(total, 32, async (i) => ({ user: i % USERS, answer: await decide(urls[i % 2]!, `capped-${i % USERS}`) }), (started) => {
      if (started === Math.floor(total / 2) && killedAt === 0) {
        killedAt = performance.now()
        redis.killMaster().then(async (port) => {
          say(`${name}: master ${port} killed`)
          // When Redis itself had a new master, apart from when popguard answered from it again.
          while (!await redis.newMaster(port)) await sleep(100)
          promotedAfter = (performance.now() - killedAt) / 1000
          say(`${name}: a replica was promoted ${promotedAfter.toFixed(2)} s after the kill`)
        }, (err: unknown) => say(`kill failed: ${String(err)}`))
      }
    })
    // Recovered: 50 steady answers in a row that reached Redis, after the kill.
    const deadline = performance.now() + 30_000
    let recovered = false
    while (!recovered && performance.now() < deadline) {
      await sleep(100)
      const after = steady.filter((a) => a.at > killedAt)
      const lastBad = after.findLastIndex((a) => a.degraded || a.status !== 200)
      recovered = lastBad >= 0 && after.length - lastBad > 50
    }
    say(`${name}: ${recovered ? 'recovered' : 'NOT recovered within 30 s'}; asking every capped user ${CAP} more times`)
    const again = await pool(total, 32, async (i) => ({ user: i % USERS, answer: await decide(urls[i % 2]!, `capped-${i % USERS}`) }))
    steadyState.stop = true
    await steadyLoop
    const shows = new Array<number>(USERS).fill(0)
    for (const { user, answer } of [...drive, ...again]) if (answer.shown) shows[user]!++
    const degradedAfter = [...steady, ...drive.map((d) => d.answer)].filter((a) => a.at > killedAt && a.degraded)
    const all = [...steady, ...drive.map((d) => d.answer), ...again.map((d) => d.answer)]
    return {
      promotedAfter,
      // A busy machine times decisions out on its own: the noise under the failover's figure.
      degradedBefore: steady.filter((a) => a.at <= killedAt && a.degraded).length / Math.max(1, steady.filter((a) => a.at <= killedAt).length),
      degradedSeconds: degradedAfter.length === 0 ? 0 : (Math.max(...degradedAfter.map((a) => a.at)) - killedAt) / 1000,
      fiveXx: all.filter((a) => a.status >= 500 && a.status !== 503).length,
      shed: all.filter((a) => a.status === 503).length,
      shedBefore: all.filter((a) => a.status === 503 && a.at <= killedAt).length,
      errors: all.filter((a) => a.status === 0).length,
      overCap: shows.reduce((n, s) => n + Math.max(0, s - CAP), 0),
      cappedUsers: shows.filter((s) => s > CAP).length,
      p50: baseline.p50,
      p99: baseline.p99,
      recovered
    }
  } finally {
    await Promise.all([stopChild('popguard-a'), stopChild('popguard-b')])
    await redis.stop()
  }
}

async function main (): Promise<void> {
  if (args['skip-build'] !== true) {
    say('building (npm run build)')
    buildPopguard()
  }
  const dir = benchDir('failover')
  const policyFile = join(dir, 'policy.json')
  writeFileSync(policyFile, JSON.stringify({
    policy: {
      defaultTimezone: 'UTC',
      caps: [{ id: 'daily', per: 'user', limit: CAP, window: '1d' }],
      mode: 'enforce',
      onStoreFailure: { marketing: 'suppress', service: 'allow', critical: 'allow' }
    },
    campaigns: ['a', 'b', 'c'].map((id) => ({ id, name: id, class: 'marketing', category: 'promo', priority: 50, status: 'active', startsAt: null, endsAt: null, caps: [] }))
  }))
  const modes: [string, Record<string, string>][] = [['async', {}], ['strict', { POPGUARD_REDIS_WAIT_REPLICAS: '1' }]]
  const results: ModeResult[] = []
  for (const [name, env] of modes) results.push(await runMode(name, policyFile, env))
  const row = (label: string, f: (r: ModeResult) => string): void => {
    process.stdout.write(label.padEnd(44) + results.map((r) => f(r).padStart(22)).join('') + '\n')
  }
  process.stdout.write(`${TOPOLOGY}: ${USERS} users driven to a cap of ${CAP} from two instances; steady load ${STEADY_RATE} req/s; a master SIGKILLed halfway\n`)
  row('', (r) => modes[results.indexOf(r)]![0] === 'async' ? 'async (default)' : 'strict (WAIT 1)')
  row('seconds until Redis had a new master', (r) => r.promotedAfter.toFixed(2))
  row('seconds of degraded answers after the kill', (r) => r.degradedSeconds.toFixed(2))
  row('degraded share before the kill (noise)', (r) => `${(r.degradedBefore * 100).toFixed(2)}%`)
  row('5xx other than 503', (r) => String(r.fiveXx))
  row('503 load shed (all / before the kill)', (r) => `${r.shed} / ${r.shedBefore}`)
  row('connection errors', (r) => String(r.errors))
  row('shows above the cap (lost writes)', (r) => `${r.overCap} (${r.cappedUsers} users)`)
  row('decide latency before the kill, p50 / p99', (r) => `${r.p50.toFixed(1)} / ${r.p99.toFixed(1)} ms`)
  row('recovered (50 answers in a row from Redis)', (r) => r.recovered ? 'yes' : 'NO')
}

try {
  await main()
} finally {
  agent.destroy()
  await stopAll()
}
