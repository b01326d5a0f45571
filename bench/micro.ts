/**
 * Micro-measures of the decision path's pure parts (no HTTP, no Redis): how long planDecision
 * takes per decision for the bench policy and the example policy (quiet hours on), and what one
 * decision log line costs with a synchronous and with an asynchronous destination.
 * `npx tsx bench/micro.ts`; numbers in docs/benchmark.md.
 */
import { randomUUID } from 'node:crypto'
import { readFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { destination, pino } from 'pino'
import { planDecision, type DecideInput } from '../src/rules/decide/plan.js'
import { compilePolicy } from '../src/rules/policy/compile.js'

const ROOT = new URL('..', import.meta.url)

function usPerCall (n: number, fn: (i: number) => void): number {
  for (let i = 0; i < Math.min(n, 2000); i++) fn(i)
  const t = performance.now()
  for (let i = 0; i < n; i++) fn(i)
  return (performance.now() - t) * 1000 / n
}

for (const file of ['bench/policy.json', 'examples/policy.json']) {
  const doc = JSON.parse(readFileSync(new URL(file, ROOT), 'utf8'))
  const policy = compilePolicy(doc.policy, doc.campaigns, 1)
  const input: DecideInput = {
    userId: 'bench-user-1',
    placement: 'home',
    candidates: [{ campaignId: 'spring-sale' }, { campaignId: 'quick-loan' }, { campaignId: 'app-update' }],
    requestId: randomUUID()
  }
  const us = usPerCall(20_000, () => planDecision(input, policy, 'Asia/Shanghai', { now: Date.now(), decisionId: randomUUID(), enforce: true, echo: '[1,"enforce","treated"]' }))
  console.log(`planDecision, ${file}: ${us.toFixed(1)} us`)
}

const dir = mkdtempSync(join(tmpdir(), 'popguard-micro-'))
const line = {
  event: 'decision',
  decisionId: randomUUID(),
  user: 'x'.repeat(22),
  placement: 'home',
  shown: 'spring-sale',
  candidates: [{ campaignId: 'spring-sale', allowed: true, reason: 'eligible' }, { campaignId: 'quick-loan', allowed: false, reason: 'lower_priority' }],
  policyVersion: 1,
  mode: 'enforce',
  cohort: 'treated',
  degraded: false,
  replayed: false,
  latencyMs: 1.234
}
for (const sync of [true, false]) {
  const dest = destination({ dest: join(dir, `log-${sync}`), sync })
  if (!sync) await new Promise((resolve) => dest.once('ready', resolve))
  const log = pino({ level: 'info' }, dest)
  const us = usPerCall(50_000, () => log.info(line, 'decision'))
  dest.flushSync()
  console.log(`decision log line, ${sync ? 'sync' : 'async'} destination: ${us.toFixed(1)} us`)
}
rmSync(dir, { recursive: true, force: true })
