// A real Redis with Sentinel failover for tests: one master, one replica and three sentinels
// (`redis-server <conf> --sentinel`), each on a free loopback port in its own temp dir. No Docker;
// killMaster() SIGKILLs the master (a crash) so that the sentinels promote the replica; stop()
// kills and removes everything.
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'
import { freePort } from './redis-server.js'

export interface SentinelNode { host: string, port: number }
export interface RedisSentinel {
  /** The master's name the sentinels monitor (REDIS_SENTINEL_NAME). */
  name: string
  sentinels: SentinelNode[]
  /** The master now, as the sentinels name it. */
  master(): Promise<SentinelNode>
  /** SIGKILLs the current master; resolves once it is dead (not once the failover is done). */
  killMaster(): Promise<SentinelNode>
  stop(): Promise<void>
}

export interface SentinelOptions {
  /** `down-after-milliseconds`: how long a silent master takes to be judged down. */
  downAfterMs?: number
  /** Replicas of the master (default 1). */
  replicas?: number
}

const host = '127.0.0.1'
const NAME = 'popguard'
const run = promisify(execFile)
const children = new Set<ChildProcess>()
process.once('exit', () => { for (const child of children) child.kill('SIGKILL') })

interface Proc { port: number, dir: string, child: ChildProcess }

async function cli (port: number, ...args: string[]): Promise<string> {
  try {
    return (await run('redis-cli', ['-h', host, '-p', String(port), ...args])).stdout.trim()
  } catch {
    return ''
  }
}

async function spawnRedis (port: number, dir: string, args: string[]): Promise<Proc> {
  const child = spawn('redis-server', args, { cwd: dir, stdio: 'ignore' })
  children.add(child)
  child.once('exit', () => children.delete(child))
  await new Promise<void>((resolve, reject) => { child.once('spawn', resolve); child.once('error', reject) })
  return { port, dir, child }
}

async function waitUntil (what: string, check: () => Promise<boolean>, procs: Proc[], timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) {
      const logs = await Promise.all(procs.map(async (p) => `--- ${p.port}\n${(await readFile(join(p.dir, 'redis.log'), 'utf8').catch(() => '')).slice(-800)}`))
      throw new Error(`redis sentinel harness: timed out waiting for ${what}\n${logs.join('\n')}`)
    }
    await sleep(50)
  }
}

const exited = (c: ChildProcess): boolean => c.exitCode !== null || c.signalCode !== null

export async function startRedisSentinel (opts: SentinelOptions = {}): Promise<RedisSentinel> {
  const downAfterMs = opts.downAfterMs ?? 1000
  const procs: Proc[] = []
  const stop = async (): Promise<void> => {
    await Promise.all(procs.splice(0).map(async (p) => {
      if (!exited(p.child)) {
        const gone = new Promise((resolve) => p.child.once('exit', resolve))
        p.child.kill('SIGKILL')
        await gone
      }
      await rm(p.dir, { recursive: true, force: true })
    }))
  }
  const dataNode = async (replicaOf?: number): Promise<Proc> => {
    const port = await freePort()
    const dir = await mkdtemp(join(tmpdir(), 'popguard-sentinel-data-'))
    return await spawnRedis(port, dir, ['--port', String(port), '--bind', host, '--dir', dir, '--logfile', 'redis.log',
      '--save', '', '--appendonly', 'no', ...(replicaOf === undefined ? [] : ['--replicaof', host, String(replicaOf)])])
  }
  try {
    const master = await dataNode()
    procs.push(master)
    await waitUntil('the master', async () => (await cli(master.port, 'ping')) === 'PONG', procs)
    const replicas = opts.replicas ?? 1
    for (let i = 0; i < replicas; i++) {
      const replica = await dataNode(master.port)
      procs.push(replica)
      await waitUntil('the replica in sync', async () => (await cli(replica.port, 'info', 'replication')).includes('master_link_status:up'), procs)
    }
    for (let i = 0; i < 3; i++) {
      const port = await freePort()
      const dir = await mkdtemp(join(tmpdir(), 'popguard-sentinel-'))
      // A sentinel rewrites its configuration file: each gets its own.
      await writeFile(join(dir, 'sentinel.conf'), [
        `port ${port}`, `bind ${host}`, `dir ${dir}`, 'logfile redis.log',
        `sentinel monitor ${NAME} ${host} ${master.port} 2`,
        `sentinel down-after-milliseconds ${NAME} ${downAfterMs}`,
        `sentinel failover-timeout ${NAME} 5000`,
        `sentinel parallel-syncs ${NAME} 1`, ''
      ].join('\n'))
      procs.push(await spawnRedis(port, dir, [join(dir, 'sentinel.conf'), '--sentinel']))
    }
    const sentinelProcs = procs.slice(1 + replicas)
    // Every sentinel knows the replica and the two other sentinels: a failover can be voted.
    await waitUntil('the sentinels to know each other and the replica', async () => {
      for (const s of sentinelProcs) {
        const info = await cli(s.port, 'info', 'sentinel')
        if (!new RegExp(`status=ok,address=[^,]+,slaves=${replicas},sentinels=3`).test(info)) return false
      }
      return true
    }, procs)
  } catch (err) {
    await stop()
    throw err
  }
  const sentinels = procs.slice(1 + (opts.replicas ?? 1)).map((p) => ({ host, port: p.port }))
  const masterNow = async (): Promise<SentinelNode> => {
    for (const s of sentinels) {
      const [h, p] = (await cli(s.port, 'sentinel', 'get-master-addr-by-name', NAME)).split('\n')
      if (h !== undefined && p !== undefined && p !== '') return { host: h, port: Number(p) }
    }
    throw new Error('no sentinel names a master')
  }
  const killMaster = async (): Promise<SentinelNode> => {
    const current = await masterNow()
    const proc = procs.find((p) => p.port === current.port)
    if (proc === undefined) throw new Error(`the master ${current.port} is not one of ours`)
    if (!exited(proc.child)) {
      const gone = new Promise((resolve) => proc.child.once('exit', resolve))
      proc.child.kill('SIGKILL')
      await gone
    }
    return current
  }
  return { name: NAME, sentinels, master: masterNow, killMaster, stop }
}
