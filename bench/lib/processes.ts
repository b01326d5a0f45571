/**
 * The processes the benchmark starts, and the guarantee that it stops every one of
 * them: on a normal end, on an error and on Ctrl-C.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from '../../test/helpers/redis-server.js'

const children = new Map<string, ChildProcess>()
const tempDirs: string[] = []
let stopping = false
const closers: (() => void)[] = []

/** Something else to close when the benchmark stops (e.g. client connections). */
export function atStop (close: () => void): void {
  closers.push(close)
}

// The same free-port probe the tests use.
export { freePort } from '../../test/helpers/redis-server.js'

export function removeOnExit (dir: string): void {
  tempDirs.push(dir)
}

/** A new temporary folder `popguard-<name>-*`, removed when the benchmark stops. */
export function benchDir (name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `popguard-${name}-`))
  removeOnExit(dir)
  return dir
}

export interface StartOptions {
  env?: Record<string, string>
  /** Where the child's stdout goes (a file path); stderr always goes to `<stdoutFile>.err` or is ignored. */
  stdoutFile?: string
}

/** Starts a child process; an unexpected exit before stopAll() is reported on stderr. */
export async function startChild (name: string, command: string, args: string[], opts: StartOptions = {}): Promise<ChildProcess> {
  const out = opts.stdoutFile === undefined ? 'ignore' : openSync(opts.stdoutFile, 'a')
  const err = opts.stdoutFile === undefined ? 'ignore' : openSync(`${opts.stdoutFile}.err`, 'a')
  const child = spawn(command, args, { stdio: ['ignore', out, err], env: { ...process.env, ...opts.env } })
  if (typeof out === 'number') closeSync(out)
  if (typeof err === 'number') closeSync(err)
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve)
    child.once('error', reject)
  })
  children.set(name, child)
  child.once('exit', (code, signal) => {
    if (children.get(name) === child && !stopping) {
      children.delete(name)
      process.stderr.write(`bench: ${name} exited unexpectedly (code ${code}, signal ${signal})\n`)
    }
  })
  return child
}

/** Stops one child: SIGTERM, then SIGKILL after a grace period. */
export async function stopChild (name: string, graceMs = 3000): Promise<void> {
  const child = children.get(name)
  if (child === undefined) return
  children.delete(name)
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
  await exited
  clearTimeout(timer)
}

export async function stopAll (): Promise<void> {
  stopping = true
  for (const close of closers.splice(0)) close()
  await Promise.all([...children.keys()].map(async (name) => await stopChild(name)))
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true })
}

/** Last resort when the process is leaving without awaiting stopAll (e.g. a second Ctrl-C). */
function killAllNow (): void {
  for (const child of children.values()) child.kill('SIGKILL')
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true })
}
process.on('exit', killAllNow)

/** CPU time (user + system, ms) a child has used so far, from /proc (Linux); NaN elsewhere. */
export function cpuMs (name: string): number {
  const pid = children.get(name)?.pid
  if (pid === undefined) return NaN
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    // utime and stime are fields 14 and 15 of the whole line, in clock ticks (100 per second on Linux).
    return (Number(fields[11]) + Number(fields[12])) * 10
  } catch {
    return NaN
  }
}

/** Polls an HTTP URL until it answers 2xx. */
export async function waitForHttp (url: string, init: RequestInit = {}, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let last = ''
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, init)
      if (res.ok) return
      last = `status ${res.status}`
    } catch (err) {
      last = (err as Error).message
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms (${last})`)
}

const ROOT = new URL('../..', import.meta.url).pathname

/**
 * The built popguard (`dist/`, production mode, warn-level logs to `dir`/popguard.log) on a free port
 * against one Redis, with one client key; resolves once /readyz answers.
 */
export async function startBuiltPopguard (opts: { dir: string, redisUrl: string, policyFile: string, clientKey: string, env?: Record<string, string> }): Promise<{ child: ChildProcess, url: string }> {
  const port = await freePort()
  const child = await startChild('popguard', process.execPath, [`${ROOT}dist/src/server.js`], {
    stdoutFile: `${opts.dir}/popguard.log`,
    env: {
      NODE_ENV: 'production',
      PORT: String(port),
      HOST: '127.0.0.1',
      REDIS_URL: opts.redisUrl,
      LOG_LEVEL: 'warn',
      POPGUARD_POLICY_FILE: opts.policyFile,
      POPGUARD_API_KEYS: `bench:client:${opts.clientKey}`,
      POPGUARD_LOG_KEY: 'bench-log-key-0123456789',
      ...opts.env
    }
  })
  const url = `http://127.0.0.1:${port}`
  await waitForHttp(`${url}/readyz`)
  return { child, url }
}

/** `npm run build` in the repository: the benches run the built service, as production does. */
export function buildPopguard (): void {
  const out = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8' })
  if (out.status !== 0) throw new Error(`npm run build failed:\n${out.stdout}${out.stderr}`)
}
