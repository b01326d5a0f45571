/**
 * The simulator's replay speed and memory, single-threaded, with the example policy:
 *   node --expose-gc --import tsx bench/simulate.ts [lines=300000] [users=30000]
 * Prints decision lines per second against the target (200,000/s: a ratio above 1 meets it) and
 * the heap held per distinct user once the replay is done. Lines are generated in memory first, so
 * reading and gunzipping are not counted (the CLI on a file: docs/simulator.md).
 */
import { readFileSync } from 'node:fs'
import { compilePolicy } from '../src/rules/policy/compile.js'
import type { PolicyFile } from '../src/rules/policy/schema.js'
import { Simulator } from '../src/simulate/simulate.js'
import { evaluate } from '../src/rules/decide/evaluate.js'
import { planDecision } from '../src/rules/decide/plan.js'
import type { Impression } from '../src/rules/decide/user-state.js'
import { parseLogLine, type DecisionLine } from '../src/simulate/log-line.js'
import { decisionLog } from './lib/decision-log.js'

const TARGET = 200_000
const [lines = '300000', users = '30000'] = process.argv.slice(2)
const file = JSON.parse(readFileSync(new URL('../examples/policy.json', import.meta.url), 'utf8')) as PolicyFile
const policy = compilePolicy(file.policy, file.campaigns, 1)
const gc = (globalThis as { gc?: () => void }).gc
const log = [...decisionLog({ lines: Number(lines), users: Number(users), start: Date.parse('2026-06-01T00:00:00+08:00') })]
const decisions = log.filter((l) => l.includes('"event":"decision"')).length

function replay (): { seconds: number, cpuSeconds: number, sim: Simulator } {
  const sim = new Simulator(policy)
  const started = performance.now()
  const cpu = process.cpuUsage()
  let n = 0
  for (const line of log) sim.line(line, ++n)
  sim.result()
  const used = process.cpuUsage(cpu)
  return { seconds: (performance.now() - started) / 1000, cpuSeconds: (used.user + used.system) / 1e6, sim }
}

replay() // warm-up: JIT and the zone caches
const rates: number[] = []
const cpuRates: number[] = []
for (let round = 0; round < 3; round++) {
  const r = replay()
  rates.push(decisions / r.seconds)
  cpuRates.push(decisions / r.cpuSeconds)
}
rates.sort((a, b) => a - b)
cpuRates.sort((a, b) => a - b)
const median = rates[1] ?? 0
const cpuMedian = cpuRates[1] ?? 0

/** Decision lines/s of one part alone (median of 3 after a warm-up): where a replay's time goes. */
function part (run: () => void): number {
  const rounds: number[] = []
  for (let r = 0; r < 4; r++) {
    const started = performance.now()
    run()
    if (r > 0) rounds.push(decisions / ((performance.now() - started) / 1000))
  }
  return rounds.sort((a, b) => a - b)[1] ?? 0
}
const parsed = log.map((l) => parseLogLine(l)).filter((l): l is DecisionLine => l?.kind === 'decision')
const planOf = (l: DecisionLine) => planDecision({ userId: '', placement: l.placement, candidates: l.candidates }, policy, l.timezone ?? policy.defaultTimezone,
  { now: l.at, decisionId: l.decisionId, enforce: true, echo: '' })
const parseRate = part(() => { for (const l of log) parseLogLine(l) })
const planRate = part(() => { for (const l of parsed) planOf(l) })
const rulesRate = part(() => {
  const ledgers = new Map<string, Impression[]>()
  for (const l of parsed) ledgers.set(l.user, evaluate(planOf(l), { ledger: ledgers.get(l.user) ?? [], prefs: null, fatigue: null }).ledger)
})

gc?.()
const before = process.memoryUsage().heapUsed
const { sim } = replay()
gc?.()
const held = process.memoryUsage().heapUsed - before
const perUser = held / sim.userCount

console.log(`lines ${log.length} (decisions ${decisions}), distinct users ${sim.userCount}`)
console.log(`decision lines/s, median of 3: ${Math.round(median).toLocaleString('en-US')} (rounds ${rates.map((r) => Math.round(r)).join('/')}); target ${TARGET.toLocaleString('en-US')}: ratio ${(median / TARGET).toFixed(2)}`)
console.log(`parts alone (decision lines/s): parse every line ${Math.round(parseRate).toLocaleString('en-US')}, ` +
  `planDecision ${Math.round(planRate).toLocaleString('en-US')}, planDecision + evaluate ${Math.round(rulesRate).toLocaleString('en-US')}`)
// On a shared machine wall time includes waiting for a core; CPU time (GC threads included) does not.
console.log(`decision lines per CPU-second, median of 3: ${Math.round(cpuMedian).toLocaleString('en-US')}; ratio ${(cpuMedian / TARGET).toFixed(2)}`)
console.log(gc === undefined
  ? 'memory per user: run with node --expose-gc --import tsx for a figure'
  : `heap held per distinct user: ${Math.round(perUser)} bytes (${(held / 1e6).toFixed(1)} MB for ${sim.userCount} users)`)
// Keep sim alive until measured.
if (sim.userCount < 0) console.log(sim)
