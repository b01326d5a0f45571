/**
 * decide.lua alone: script time per EVALSHA (INFO commandstats) over N decides for random
 * users, bench policy, 3 candidates, a requestId each, on a private redis-server.
 * Steadier than the full bench for judging a change to the script: run the old and the new
 * file back to back. `npx tsx bench/script-time.ts [lua file ...]` (default: the current decide.lua).
 */
import { readFileSync } from 'node:fs'
import { randomUUID } from 'node:crypto'
import { userTagger } from '../src/rules/decide/codes.js'
import { planDecision, type DecideInput } from '../src/rules/decide/plan.js'
import { compilePolicy } from '../src/rules/policy/compile.js'
import { userKeys } from '../src/redis/keys.js'
import { LEDGER_PRELUDE } from '../src/redis/user-store/scripts.js'
import { encodePlan } from '../src/redis/user-store/plan-wire.js'
import { benchDir, stopAll } from './lib/processes.js'
import { startRedis } from './lib/redis.js'

const ROOT = new URL('..', import.meta.url)
const DECIDES = 30_000
const USERS = 100_000
const files = process.argv.slice(2)
if (files.length === 0) files.push(new URL('src/redis/user-store/decide.lua', ROOT).pathname)

const doc = JSON.parse(readFileSync(new URL('bench/policy.json', ROOT), 'utf8'))
const policy = compilePolicy(doc.policy, doc.campaigns, 1)
const ids = [...policy.campaigns.keys()]
const userTag = userTagger('bench-user-key-0123456789')
const dir = benchDir('script-time')
const redis = await startRedis(dir)
const r = redis.admin(0)
/** redis-server's CPU time so far (INFO cpu, user + sys), ms. */
async function redisCpuMs (): Promise<number> {
  const info = await r.info('cpu')
  const v = (name: string): number => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0)
  return (v('used_cpu_user') + v('used_cpu_sys')) * 1000
}

try {
  for (const file of files) {
    await r.flushdb()
    // decide.lua runs with the shared constants and ledger-lib.lua in front of it, as src/redis/user-store/scripts.ts loads it (the file header, a comment, comes along).
    const sha = await r.script('LOAD', LEDGER_PRELUDE + readFileSync(file, 'utf8')) as string
    await r.config('RESETSTAT')
    const cpuBefore = await redisCpuMs()
    let pending: Promise<unknown>[] = []
    for (let i = 0; i < DECIDES; i++) {
      const userId = `u-${Math.floor(Math.random() * USERS)}`
      const candidates = [0, 1, 2].map((k) => ({ campaignId: ids[(i + k) % ids.length] ?? '' }))
      const input: DecideInput = { userId, placement: 'home', candidates, requestId: randomUUID() }
      const plan = planDecision(input, policy, 'Asia/Shanghai', { now: Date.now(), decisionId: randomUUID(), enforce: true, echo: '[1,"enforce","treated"]' })
      const k = userKeys('st:', userTag(userId))
      pending.push(r.evalsha(sha, 4, k.ledger, k.prefs, k.fatigue, k.replies, encodePlan(plan)))
      if (pending.length >= 200) { await Promise.all(pending); pending = [] }
    }
    await Promise.all(pending)
    const line = (await r.info('commandstats')).split('\n').find((l) => l.startsWith('cmdstat_evalsha:')) ?? ''
    const cpuUs = (await redisCpuMs() - cpuBefore) * 1000 / DECIDES
    // Script time is wall time inside Redis (it grows when the machine deschedules Redis); CPU time is steadier on a shared machine.
    console.log(`${file}: ${/usec_per_call=([\d.]+)/.exec(line)?.[1] ?? '?'} us per EVALSHA (script time), redis-server CPU ${cpuUs.toFixed(1)} us per decide, over ${DECIDES} decides`)
  }
} finally {
  redis.close()
  await stopAll()
}
