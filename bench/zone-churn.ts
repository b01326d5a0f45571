/**
 * Time-zone names a client chooses: POST /v1/decide with the zone written as the policy does
 * (`Asia/Shanghai`), with a fresh random-case spelling of it on every request (`aSIa/sHAnGhaI`),
 * and with a fresh invalid name (`Zone/x7f3a9c1`, a 400), side by side in alternating rounds
 * against one popguard on its own redis-server. Prints requests per second of each and the
 * server's CPU time per request (steadier than throughput on a shared machine).
 * `npx tsx bench/zone-churn.ts [--seconds 10] [--rounds 3]`; numbers in docs/benchmark.md.
 */
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { closedLoad } from './lib/load.js'
import { benchDir, cpuMs, freePort, startChild, stopAll, waitForHttp } from './lib/processes.js'
import { startRedis } from './lib/redis.js'
import { median } from './lib/stats.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const CLIENT_KEY = 'bench-client-key-0001'
const ZONE = 'Asia/Shanghai'
const CAMPAIGNS = ['spring-sale', 'quick-loan', 'app-update']

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '10' }, rounds: { type: 'string', default: '3' } } })
const seconds = Number(values.seconds)
const rounds = Number(values.rounds)

function randomCase (name: string): string {
  return [...name].map((ch) => Math.random() < 0.5 ? ch.toLowerCase() : ch.toUpperCase()).join('')
}

const SPELLINGS: Record<string, () => string> = {
  canonical: () => ZONE,
  'random-case': () => randomCase(ZONE),
  invalid: () => 'Zone/' + randomBytes(4).toString('hex')
}

function body (zone: string): string {
  const userId = `zone-user-${Math.floor(Math.random() * 100_000)}`
  return JSON.stringify({ userId, placement: 'home', candidates: CAMPAIGNS.map((campaignId) => ({ campaignId })), context: { timezone: zone } })
}

async function main (): Promise<void> {
  const dir = benchDir('zone')
  const redis = await startRedis(dir)
  const port = await freePort()
  await startChild('popguard', process.execPath, ['--import', 'tsx', join(ROOT, 'src/server.ts')], {
    stdoutFile: join(dir, 'popguard.log'),
    env: {
      NODE_ENV: 'production',
      PORT: String(port),
      HOST: '127.0.0.1',
      REDIS_URL: redis.url(0),
      LOG_LEVEL: 'info',
      POPGUARD_POLICY_FILE: join(ROOT, 'bench/policy.json'),
      POPGUARD_API_KEYS: `bench:client:${CLIENT_KEY}`,
      POPGUARD_LOG_KEY: 'bench-log-key-0123456789'
    }
  })
  await waitForHttp(`http://127.0.0.1:${port}/readyz`)
  const url = `http://127.0.0.1:${port}/v1/decide`
  const load = async (kind: string, s: number) => {
    const spell = SPELLINGS[kind] as () => string
    const cpuBefore = cpuMs('popguard')
    const r = await closedLoad({ url, headers: { authorization: `Bearer ${CLIENT_KEY}` }, connections: 32, seconds: s, body: () => body(spell()) })
    const requests = r.ok + r.failed
    return { rps: requests / r.seconds, cpuUs: (cpuMs('popguard') - cpuBefore) * 1000 / requests }
  }
  for (const kind of Object.keys(SPELLINGS)) await load(kind, 3)
  const results: Record<string, { rps: number, cpuUs: number }[]> = Object.fromEntries(Object.keys(SPELLINGS).map((k) => [k, []]))
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? Object.keys(SPELLINGS) : Object.keys(SPELLINGS).reverse()
    for (const kind of order) {
      const r = await load(kind, seconds)
      results[kind]?.push(r)
      process.stdout.write(`round ${round + 1}: ${kind.padEnd(12)} ${Math.round(r.rps)} req/s, server CPU ${Math.round(r.cpuUs)} us/request\n`)
    }
  }
  for (const [kind, list] of Object.entries(results)) {
    const rps = list.map((r) => r.rps)
    const cpu = list.map((r) => r.cpuUs)
    process.stdout.write(`${kind.padEnd(12)} median ${Math.round(median(rps))} req/s (${rps.map(Math.round).join(', ')}), ` +
      `server CPU median ${Math.round(median(cpu))} us/request (${cpu.map(Math.round).join(', ')})\n`)
  }
  redis.close()
}

main().catch((err: unknown) => {
  process.stderr.write(`zone-churn: ${(err as Error).stack ?? String(err)}\n`)
  process.exitCode = 1
}).finally(() => { stopAll().catch(() => {}) })
