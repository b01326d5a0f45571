/**
 * What one answer costs popguard in CPU, a decision against a shed 503: the built popguard on its
 * own Redis, a closed loop of 16 raw connections, first with shedding off (every answer a
 * decision), then with an in-flight limit of 1 (nearly every answer a 503 from the shed gate).
 * CPU is read from /proc per thread, so that the main thread and the others (V8's garbage-
 * collection helpers, mostly) are apart. `--cpus` runs popguard under a CPU limit (a CFS quota,
 * lib/cpu-limit.ts) to see what a limit below a core does to the same answers.
 * docs/benchmark.md, "Load shedding, second round" and "Horizontal scale, with a CPU limit".
 *
 *   npx tsx bench/shed-cost.ts [--seconds 4] [--cpus 0] [--skip-build]
 */
import { readdirSync, readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { createCpuLimit, type CpuLimit } from './lib/cpu-limit.js'
import { campaignIdsOf, decideBody } from './lib/load.js'
import { benchDir, buildPopguard, startBuiltPopguard, stopAll, stopChild } from './lib/processes.js'
import { closedRawLoad } from './lib/raw-http.js'
import { startRedis } from './lib/redis.js'

const POLICY = new URL('policy.json', import.meta.url).pathname
const CLIENT_KEY = 'bench-client-key-0001'
const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '4' },
    cpus: { type: 'string', default: '0' },
    'skip-build': { type: 'boolean', default: false }
  }
})
const say = (m: string): void => { process.stderr.write(`${m}\n`) }

/** CPU time (ms) of the process's main thread and of all its other threads together. */
function threadCpuMs (pid: number): { main: number, others: number } {
  let main = 0
  let others = 0
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const ms = (Number(fields[11]) + Number(fields[12])) * 10
    if (tid === String(pid)) main += ms
    else others += ms
  }
  return { main, others }
}

async function measure (dir: string, redisUrl: string, name: string, env: Record<string, string>, limit: CpuLimit | null): Promise<void> {
  const { child, url } = await startBuiltPopguard({ dir, redisUrl, policyFile: POLICY, clientKey: CLIENT_KEY, env })
  const pid = child.pid ?? 0
  limit?.add(pid)
  const workload = { kind: 'uniform' as const, users: 100_000, campaignIds: campaignIdsOf(POLICY), withRequestId: true }
  const load = { url: `${url}/v1/decide`, headers: { authorization: `Bearer ${CLIENT_KEY}` }, connections: 16, body: () => decideBody(workload) }
  say(`${name}: warm-up 2 s, then ${args.seconds} s`)
  await closedRawLoad({ ...load, seconds: 2 })
  const before = threadCpuMs(pid)
  const r = await closedRawLoad({ ...load, seconds: Number(args.seconds) })
  const after = threadCpuMs(pid)
  await stopChild('popguard')
  const answers = r.ok + r.failed
  const per = (ms: number): string => (ms * 1000 / answers).toFixed(0)
  process.stdout.write(`${name.padEnd(26)} ${String(r.ok).padStart(7)} ${String(r.failed).padStart(7)} ${(answers / r.seconds).toFixed(0).padStart(9)} ` +
    `${per(after.main - before.main).padStart(11)} ${per(after.others - before.others).padStart(13)}\n`)
}

async function main (): Promise<void> {
  if (args['skip-build'] !== true) {
    say('building (npm run build)')
    buildPopguard()
  }
  const dir = benchDir('shed-cost')
  const redis = await startRedis(dir)
  const cpus = Number(args.cpus)
  const limit = cpus > 0 ? createCpuLimit('shed-cost', cpus) : null
  try {
    process.stdout.write(`${cpus > 0 ? `popguard limited to ${cpus} of a core` : 'no CPU limit'}; CPU per answer in us\n`)
    process.stdout.write('mode                          200s   other   answers/s  main thread  other threads\n')
    const off = { POPGUARD_SHED_MAX_EVENT_LOOP_DELAY_MS: '0', POPGUARD_SHED_MAX_PER_TURN: '0' }
    await measure(dir, redis.url(0), 'decisions (no shedding)', { ...off, POPGUARD_SHED_MAX_IN_FLIGHT: '0' }, limit)
    await measure(dir, redis.url(0), 'shed (in-flight limit 1)', { ...off, POPGUARD_SHED_MAX_IN_FLIGHT: '1' }, limit)
  } finally {
    redis.close()
    await stopAll()
    limit?.remove()
  }
}

await main()
