import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { freePort } from './helpers/redis-server.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const POLICY = fileURLToPath(new URL('../examples/policy.json', import.meta.url))
const PRODUCTION = {
  NODE_ENV: 'production',
  POPGUARD_API_KEYS: 'ops:client:a-long-production-secret',
  POPGUARD_POLICY_FILE: POLICY,
  POPGUARD_LOG_KEY: 'a-production-log-key-of-some-length'
}

// node with the tsx loader, not npx: SIGTERM reaches the server itself, and several starts at
// once stay fast on a loaded machine.
const SERVER_ARGS = ['--import', 'tsx', 'src/server.ts']

/**
 * Starts the real server entry with only the given environment; resolves when it exits (or is
 * killed after 40 s: a start under tsx on a loaded 2-core machine has taken over 15 s). Once it says it listens, it gets SIGTERM.
 */
async function startServer (env: Record<string, string>): Promise<{ code: number | null, output: string }> {
  const child = spawn(process.execPath, SERVER_ARGS, {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', PORT: String(await freePort()), HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let output = ''
  child.stdout.on('data', (d: Buffer) => {
    output += d.toString()
    if (output.includes('popguard is listening')) child.kill('SIGTERM')
  })
  child.stderr.on('data', (d: Buffer) => { output += d.toString() })
  const killer = setTimeout(() => child.kill('SIGKILL'), 40_000)
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
  clearTimeout(killer)
  return { code, output }
}

describe('NODE_ENV=production', () => {
  it('starts with keys, a policy file and a log key (in memory, chosen explicitly), and exits cleanly on SIGTERM', async () => {
    const { code, output } = await startServer({ ...PRODUCTION, POPGUARD_STORE: 'memory' })
    expect(output).toContain('popguard is listening')
    expect(output).toContain('IN-MEMORY')
    expect(code, output).toBe(0)
  }, 60_000)

  it('refuses to start without Redis unless the memory store is chosen, naming the variables (exit 78)', async () => {
    const { code, output } = await startServer(PRODUCTION)
    expect(code, output).toBe(78)
    for (const variable of ['REDIS_URL', 'REDIS_CLUSTER_NODES', 'REDIS_SENTINELS', 'POPGUARD_STORE']) expect(output).toContain(variable)
    expect(output).not.toContain('popguard is listening')
    expect(output).not.toMatch(/\bat .+:\d+:\d+/)
  }, 60_000)

  // One at a time: three tsx compiles at once on a loaded machine were what ran past the kill.
  it.each(['POPGUARD_API_KEYS', 'POPGUARD_POLICY_FILE', 'POPGUARD_LOG_KEY'] as const)('refuses to start without %s and says so', async (variable) => {
    const env: Record<string, string> = { ...PRODUCTION, POPGUARD_STORE: 'memory' }
    delete env[variable]
    const { code, output } = await startServer(env)
    expect(code, output).not.toBe(0)
    expect(code, 'exited by itself, not killed by the test').not.toBeNull()
    expect(output).toContain(variable)
    expect(output).not.toMatch(/\bat .+:\d+:\d+/)
  }, 60_000)
})
