/**
 * Soak: popguard on its own Redis at half load (decides, and a `shown` event for every pop-up
 * shown) for `--minutes` (default 10), sampling every `--every` seconds (default 10) popguard's
 * RSS, V8 heap and event-loop delay and Redis's memory and key count. Prints a table as it goes
 * and, at the end, PASS/FAIL per series: FAIL when the last third of the samples is more than 10%
 * above the middle third (a series that keeps growing instead of levelling off; the first third
 * is the warm-up; the heap is judged by its floor, the lowest sample of each third). Users come from a
 * fixed pool, so the keyspace can level off: Redis memory levels off once each user's bounded
 * records are full (idempotency 64, ledger 256, event log 512) or expire. Without `--users` the pool
 * is sized so that the idempotency hashes are full within the first third of the run (rate x a third
 * of the run / 64); the ledger and event log of a user shown service messages fill more slowly. At
 * the end it prints the keys and their memory by shape, so that what still grows can be named.
 *
 *   npm run bench:soak -- [--minutes 10] [--every 10] [--rate N] [--users N] [--skip-build]
 *
 * --rate: decides per second; without it, half the rate measured first (closed loop, 5 s).
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import type { Redis } from 'ioredis'
import { MAX_REPLIES } from '../src/rules/decide/limits.js'
import { parseSamples } from '../test/helpers/metrics.js'
import { campaignIdsOf, closedLoad, decideBody, type Workload } from './lib/load.js'
import { benchDir, buildPopguard, startBuiltPopguard, stopAll } from './lib/processes.js'
import { RawHttpPool } from './lib/raw-http.js'
import { startRedis } from './lib/redis.js'

type UniformWorkload = Extract<Workload, { kind: 'uniform' }>

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const POLICY = join(ROOT, 'bench/policy.json')
const CLIENT_KEY = 'bench-client-key-0001'
const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    every: { type: 'string', default: '10' },
    rate: { type: 'string' },
    users: { type: 'string' },
    'skip-build': { type: 'boolean', default: false }
  }
})
const t0 = performance.now()
const say = (m: string): void => { process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(1).padStart(7)}s] ${m}\n`) }
const sleep = async (ms: number): Promise<void> => await new Promise((resolve) => setTimeout(resolve, ms))

interface Row { at: number, rssMb: number, heapMb: number, loopP99Ms: number, redisMb: number, keys: number, ok: number, shed: number, failed: number }
const SERIES: [keyof Row, string][] = [['rssMb', 'popguard RSS (MB)'], ['heapMb', 'V8 heap used (MB)'], ['loopP99Ms', 'event-loop delay p99 (ms)'], ['redisMb', 'Redis used memory (MB)'], ['keys', 'Redis keys']]

/**
 * Keys and their memory (MEMORY USAGE) by shape, user tags and ids folded: what the keyspace is
 * made of, and which part grows. Report keys named by a campaign or day fold into one shape each.
 */
async function keyShapes (client: Redis): Promise<Record<string, { keys: number, kb: number }>> {
  const shapes: Record<string, { keys: number, kb: number }> = {}
  let cursor = '0'
  do {
    const [next, keys] = await client.scan(cursor, 'COUNT', 1000)
    cursor = next
    const sizes = await Promise.all(keys.map(async (key) => Number(await client.memory('USAGE', key) ?? 0)))
    keys.forEach((key, k) => {
      const shape = key.replace(/\{u:[^}]+\}/, '{u:*}').replace(/(\{agg\}:[a-z]+:).*/, '$1*').replace(/[0-9]+/g, '#')
      const entry = shapes[shape] ??= { keys: 0, kb: 0 }
      entry.keys++
      entry.kb += (sizes[k] ?? 0) / 1024
    })
  } while (cursor !== '0')
  for (const entry of Object.values(shapes)) entry.kb = Math.round(entry.kb)
  return shapes
}

async function main (): Promise<boolean> {
  if (args['skip-build'] !== true) {
    say('building (npm run build)')
    buildPopguard()
  }
  const dir = benchDir('soak')
  const redis = await startRedis(dir)
  const campaignIds = campaignIdsOf(POLICY)
  const probeWorkload: UniformWorkload = { kind: 'uniform', users: 100_000, campaignIds, withRequestId: true }
  const { child: popguard, url: base } = await startBuiltPopguard({ dir, redisUrl: redis.url(0), policyFile: POLICY, clientKey: CLIENT_KEY })
  const headers = { authorization: `Bearer ${CLIENT_KEY}` }
  let rate = Number(args.rate ?? NaN)
  if (Number.isNaN(rate)) {
    say('measuring the sustainable rate: 5 s, closed loop, 32 connections')
    rate = Math.round((await closedLoad({ url: `${base}/v1/decide`, headers, connections: 32, seconds: 5, body: () => decideBody(probeWorkload) })).rps / 2)
  }
  const minutes = Number(args.minutes)
  // Few enough users that each one's idempotency hash (MAX_REPLIES records, kept 10 min) is full within
  // the first third, and not so few that each is a machine-gun user (a pool sized for the event log, 512
  // records, made every user's ledger and log full and Redis, not popguard, the bottleneck: 947 users at
  // 2,426 decides/s missed their deadlines). The event log and ledger may still be filling at the end:
  // the keys-and-memory-by-shape table says so.
  const users = Number(args.users ?? Math.max(100, Math.floor(rate * minutes * 60 / 3 / MAX_REPLIES)))
  const workload: UniformWorkload = { kind: 'uniform', users, campaignIds, withRequestId: true }
  const everyMs = Number(args.every) * 1000
  say(`soak: ${rate} decides/s over ${users} users (and a shown event per pop-up shown) for ${minutes} min, sampling every ${everyMs / 1000} s`)

  // Raw keep-alive sockets (lib/raw-http.ts): node's http client would take as much CPU as popguard.
  const decidePool = new RawHttpPool({ url: `${base}/v1/decide`, headers, maxSockets: 128, wantBodies: true })
  const eventsPool = new RawHttpPool({ url: `${base}/v1/events`, headers, maxSockets: 64 })
  const counts = { ok: 0, shed: 0, failed: 0, notSent: 0 }
  // Open loop, but bounded: past MAX_PENDING requests awaiting an answer, a due decide is not sent (and
  // counted). Unbounded, a rate above what popguard answers queued ~1,500 requests/s in this process
  // until its own heap ran out after 9 minutes (popguard itself stayed level).
  const MAX_PENDING = 2000
  let pending = 0
  const decideOnce = (): void => {
    if (pending >= MAX_PENDING) { counts.notSent++; return }
    const body = decideBody(workload)
    pending++
    decidePool.post(body, performance.now(), (_due, { status, body: answerBody }) => {
      pending--
      if (status === 503) counts.shed++
      if (status !== 200) { if (status !== 503) counts.failed++; return }
      counts.ok++
      const answer = JSON.parse(answerBody?.toString() ?? '{}') as { decisionId: string, show: { campaignId: string } | null }
      if (answer.show === null) return
      const userId = (JSON.parse(body) as { userId: string }).userId
      const event = { events: [{ decisionId: answer.decisionId, userId, campaignId: answer.show.campaignId, type: 'shown' }] }
      pending++
      eventsPool.post(JSON.stringify(event), performance.now(), (_d, a) => {
        pending--
        if (a.status === 202) counts.ok++
        else if (a.status === 503) counts.shed++
        else counts.failed++
      })
    })
  }

  const rows: Row[] = []
  const sample = async (): Promise<Row> => {
    const metrics = parseSamples(await (await fetch(`${base}/metrics`)).text())
    const metric = (name: string): number => metrics.find((s) => s.name === name)?.value ?? NaN
    const status = readFileSync(`/proc/${popguard.pid ?? 0}/status`, 'utf8')
    const info = await redis.admin(0).info('memory')
    const row: Row = {
      at: (performance.now() - started) / 1000,
      rssMb: Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN) / 1024,
      heapMb: metric('nodejs_heap_size_used_bytes') / 2 ** 20,
      loopP99Ms: metric('nodejs_eventloop_lag_p99_seconds') * 1000,
      redisMb: Number(/used_memory:(\d+)/.exec(info)?.[1] ?? NaN) / 2 ** 20,
      keys: await redis.admin(0).dbsize(),
      ok: counts.ok,
      shed: counts.shed,
      failed: counts.failed
    }
    process.stdout.write(`${row.at.toFixed(0).padStart(6)} s ${row.rssMb.toFixed(1).padStart(9)} ${row.heapMb.toFixed(1).padStart(9)} ` +
      `${row.loopP99Ms.toFixed(1).padStart(9)} ${row.redisMb.toFixed(1).padStart(9)} ${String(row.keys).padStart(9)} ${String(row.ok).padStart(10)} ${String(row.shed).padStart(7)} ${String(row.failed).padStart(7)}\n`)
    return row
  }
  process.stdout.write('  time   RSS(MB)  heap(MB)  loop p99   Redis MB      keys   answered 503 shed  failed\n')
  const started = performance.now()
  const end = started + minutes * 60_000
  let sent = 0
  let nextSample = started + everyMs
  while (performance.now() < end) {
    const due = Math.floor((performance.now() - started) * rate / 1000)
    while (sent < due) { decideOnce(); sent++ }
    if (performance.now() >= nextSample) {
      nextSample += everyMs
      rows.push(await sample())
    }
    await sleep(2)
  }
  await sleep(1000)
  decidePool.close()
  eventsPool.close()
  process.stdout.write(`decides not sent (over ${MAX_PENDING} awaiting an answer): ${counts.notSent} of ${sent}\n`)
  process.stdout.write(`keys and KB by shape at the end: ${JSON.stringify(await keyShapes(redis.admin(0)))}\n`)
  redis.close()

  if (rows.length < 6) {
    process.stdout.write(`FAIL  too few samples (${rows.length}) to judge growth: run longer or sample more often\n`)
    return false
  }
  const third = Math.floor(rows.length / 3)
  const mean = (xs: Row[], k: keyof Row): number => xs.reduce((n, r) => n + r[k], 0) / xs.length
  let ok = true
  // The heap saws between collections: its floor (the lowest sample of a third) is what a leak raises.
  const level = (xs: Row[], k: keyof Row): number => k === 'heapMb' ? Math.min(...xs.map((r) => r[k])) : mean(xs, k)
  for (const [k, label] of SERIES) {
    const middle = level(rows.slice(third, 2 * third), k)
    const last = level(rows.slice(rows.length - third), k)
    const growth = last / middle - 1
    // The loop delay is noise at small values: only a growth past 10 ms counts.
    const pass = k === 'loopP99Ms' ? last < Math.max(10, middle * 2) : growth <= 0.10
    ok &&= pass
    process.stdout.write(`${pass ? 'PASS' : 'FAIL'}  ${label.padEnd(28)} middle third ${middle.toFixed(1)}, last third ${last.toFixed(1)} (${(growth * 100).toFixed(1)}%)\n`)
  }
  const { failed, shed, ok: answered } = rows.at(-1)!
  process.stdout.write(`${failed === 0 ? 'PASS' : 'FAIL'}  ${'no failed requests'.padEnd(28)} ${failed} of ${answered + shed + failed} (besides ${shed} shed with 503: half load should shed none on a quiet machine)\n`)
  return ok && failed === 0
}

let ok = false
try {
  ok = await main()
} finally {
  await stopAll()
}
process.exit(ok ? 0 : 1)
