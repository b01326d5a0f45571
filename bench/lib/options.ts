/** The benchmark's knobs: command-line flags, else BENCH_* environment variables, else defaults. */
import { parseArgs } from 'node:util'

export type Scenario = 'realistic' | 'uniform'

export interface BenchOptions {
  /** realistic (default): the realistic scenario, then the uniform one for the per-decision costs; uniform: today's alone. */
  scenario: Scenario
  rounds: number
  seconds: number
  warmup: number
  halfSeconds: number
  connections: number
  users: number
  batch: number
  memoryUsers: number
  requestId: boolean
  skipBuild: boolean
}

const NUMBERS = {
  rounds: { env: 'BENCH_ROUNDS', fallback: 3, help: 'rounds of (ceiling, popguard) at full load' },
  seconds: { env: 'BENCH_SECONDS', fallback: 10, help: 'seconds of each side in each round' },
  warmup: { env: 'BENCH_WARMUP', fallback: 5, help: 'seconds of warm-up of each side' },
  'half-seconds': { env: 'BENCH_HALF_SECONDS', fallback: 10, help: 'seconds at half load' },
  connections: { env: 'BENCH_CONNECTIONS', fallback: 32, help: 'concurrent connections at full load' },
  users: { env: 'BENCH_USERS', fallback: 100_000, help: 'distinct users, one drawn at random per request' },
  batch: { env: 'BENCH_BATCH', fallback: 5000, help: 'decides in the Redis command-count batch' },
  'memory-users': { env: 'BENCH_MEMORY_USERS', fallback: 1000, help: 'users given 3 impressions for the memory measure' }
} as const

export function usage (): string {
  const lines = Object.entries(NUMBERS).map(([flag, o]) => `  --${flag} N`.padEnd(24) + `${o.help} (${o.env}, default ${o.fallback})`)
  return ['npm run bench -- [options]',
    '  --scenario S'.padEnd(24) + 'realistic (BENCH_SCENARIO; default): sessions of users with a power-law activity, then the uniform scenario for the cost of a decision that reaches Redis; uniform: that one alone (today\'s)',
    ...lines,
    '  --no-request-id'.padEnd(24) + 'send decides without a requestId (BENCH_REQUEST_ID=0); default: every decide carries one',
    '  --skip-build'.padEnd(24) + 'use the existing dist/ (BENCH_SKIP_BUILD=1)'].join('\n')
}

export function readOptions (argv = process.argv.slice(2), env = process.env): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...Object.fromEntries(Object.keys(NUMBERS).map((k) => [k, { type: 'string' as const }])),
      scenario: { type: 'string' },
      'no-request-id': { type: 'boolean' },
      'skip-build': { type: 'boolean' },
      help: { type: 'boolean' }
    }
  })
  if (values.help === true) {
    process.stdout.write(usage() + '\n')
    process.exit(0)
  }
  const given = values as Record<string, string | boolean | undefined>
  const num = (flag: keyof typeof NUMBERS): number => {
    const o = NUMBERS[flag]
    const text = (given[flag] as string | undefined) ?? env[o.env]
    if (text === undefined || text === '') return o.fallback
    const n = Number(text)
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${flag} (${o.env}) must be a whole number of at least 1, not "${text}"`)
    return n
  }
  const scenario = (values.scenario as string | undefined) ?? env.BENCH_SCENARIO ?? 'realistic'
  if (scenario !== 'realistic' && scenario !== 'uniform') throw new Error(`--scenario (BENCH_SCENARIO) must be realistic or uniform, not "${scenario}"`)
  return {
    scenario,
    rounds: num('rounds'),
    seconds: num('seconds'),
    warmup: num('warmup'),
    halfSeconds: num('half-seconds'),
    connections: num('connections'),
    users: num('users'),
    batch: num('batch'),
    memoryUsers: num('memory-users'),
    requestId: values['no-request-id'] !== true && env.BENCH_REQUEST_ID !== '0',
    skipBuild: values['skip-build'] === true || env.BENCH_SKIP_BUILD === '1'
  }
}
