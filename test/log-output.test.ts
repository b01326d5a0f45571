// A terminal must not change how production starts or what it writes: the production image has no
// pino-pretty (a dev dependency), and `docker run -t` gives the process a terminal.
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { wantsPretty } from '../src/log/logger.js'
import { freePort } from './helpers/redis-server.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const POLICY = fileURLToPath(new URL('../examples/policy.json', import.meta.url))

/** The pids of a process's children (Linux). */
const childrenOf = (pid: number): number[] => readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number)

/**
 * Runs the server entry inside a pseudo-terminal (util-linux `script`), so its stdout is a TTY;
 * once it says it listens, the server (script's child) gets SIGTERM. Resolves with what it wrote.
 */
async function startOnATerminal (env: Record<string, string>): Promise<{ code: number | null, output: string }> {
  const command = `exec ${process.execPath} --import tsx src/server.ts`
  const child = spawn('script', ['--quiet', '--return', '--echo', 'never', '--command', command, '/dev/null'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', TERM: 'xterm', PORT: String(await freePort()), HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['pipe', 'pipe', 'pipe']
  })
  let output = ''
  let stopped = false
  child.stdout.on('data', (d: Buffer) => {
    output += d.toString()
    if (!stopped && output.includes('popguard is listening')) {
      stopped = true
      for (const pid of childrenOf(child.pid!)) process.kill(pid, 'SIGTERM')
    }
  })
  child.stderr.on('data', (d: Buffer) => { output += d.toString() })
  const killer = setTimeout(() => child.kill('SIGKILL'), 20_000)
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
  clearTimeout(killer)
  return { code, output }
}

describe('log output', () => {
  it('is pretty only on a developer\'s terminal with pino-pretty installed', () => {
    const table = [
      { tty: true, production: false, prettyInstalled: true, pretty: true },
      { tty: true, production: true, prettyInstalled: true, pretty: false },
      { tty: true, production: true, prettyInstalled: false, pretty: false },
      { tty: true, production: false, prettyInstalled: false, pretty: false },
      { tty: false, production: false, prettyInstalled: true, pretty: false }
    ]
    for (const { pretty, ...out } of table) expect(wantsPretty(out), JSON.stringify(out)).toBe(pretty)
  })

  it('stays JSON lines in production when stdout is a terminal, and the server starts and stops cleanly', async () => {
    const { code, output } = await startOnATerminal({
      NODE_ENV: 'production',
      POPGUARD_STORE: 'memory',
      POPGUARD_API_KEYS: 'ops:client:a-long-production-secret',
      POPGUARD_POLICY_FILE: POLICY,
      POPGUARD_LOG_KEY: 'a-production-log-key-of-some-length'
    })
    const lines = output.split(/\r?\n/).filter((l) => l.trim() !== '')
    const listening = lines.find((l) => l.includes('popguard is listening'))
    expect(listening, output).toBeDefined()
    expect(JSON.parse(listening!), output).toMatchObject({ msg: 'popguard is listening', level: 30 })
    for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow()
    expect(code, output).toBe(0)
  }, 30_000)
})
