// A real Redis Cluster for tests: N masters, each with `replicas` replicas (default none), each a
// redis-server from the PATH on free loopback ports with its own temp dir. No Docker; stop() kills
// and removes everything; kill() SIGKILLs one node (a crash) so that its replica takes over.
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'

export interface ClusterNode { host: string, port: number }
export interface RedisCluster {
  nodes: ClusterNode[]
  stop(): Promise<void>
  /** The masters now, as the surviving nodes see them (after a failover: the promoted replicas). */
  masters(): Promise<ClusterNode[]>
  /** SIGKILLs the node on this port, like a crash. */
  kill(port: number): Promise<void>
}

export interface ClusterOptions {
  masters?: number
  /** Replicas per master (`--cluster-replicas`). */
  replicas?: number
  /** `cluster-node-timeout`, ms: how long a silent master takes to be failed over (Redis's default: 15000). */
  nodeTimeoutMs?: number
}

interface RunningNode { port: number, dir: string, process: ChildProcess, error?: Error }

const host = '127.0.0.1'
const busOffset = 10000 // Redis Cluster's node-to-node bus listens on port + 10000.
const run = promisify(execFile)

// Should the test process die without calling stop(), its redis-servers die with it.
const children = new Set<ChildProcess>()
process.once('exit', () => { for (const child of children) child.kill('SIGKILL') })

export async function startRedisCluster (opts: ClusterOptions = {}): Promise<RedisCluster> {
  const masters = opts.masters ?? 3
  const replicas = opts.replicas ?? 0
  if (masters < 3) throw new Error('redis-cli --cluster create needs at least 3 masters')
  const running: RunningNode[] = []
  const stop = async (): Promise<void> => {
    await Promise.all(running.splice(0).map(stopNode))
  }
  try {
    for (const port of await freePorts(masters * (1 + replicas))) running.push(await startNode(port, opts.nodeTimeoutMs))
    await Promise.all(running.map((node) => waitFor(node, async () => (await cli(node.port, 'ping')) === 'PONG')))
    await run('redis-cli', ['--cluster', 'create', ...running.map((n) => `${host}:${n.port}`),
      '--cluster-replicas', String(replicas), '--cluster-yes'])
    await Promise.all(running.map((node) =>
      waitFor(node, async () => (await cli(node.port, 'cluster', 'info')).includes('cluster_state:ok'))))
    // Replicas have their master's data before anyone counts on a failover.
    await Promise.all(running.map((node) => waitFor(node, async () => {
      const info = await cli(node.port, 'info', 'replication')
      return info.includes('role:master') || info.includes('master_link_status:up')
    })))
  } catch (err) {
    await stop()
    throw err
  }
  const masterNodes = async (): Promise<ClusterNode[]> => {
    for (const node of running.filter((n) => !hasExited(n.process))) {
      const lines = (await cli(node.port, 'cluster', 'nodes')).split('\n')
      // <id> <ip:port@bus> <flags> ...: masters not marked failing (fail, or fail? while in doubt).
      const found = lines.map((l) => l.split(' '))
        .filter((f) => (f[2] ?? '').split(',').includes('master') && !(f[2] ?? '').includes('fail'))
        .map((f) => Number(/:(\d+)@/.exec(f[1] ?? '')?.[1]))
      if (found.length > 0) return found.map((port) => ({ host, port }))
    }
    return []
  }
  const kill = async (port: number): Promise<void> => {
    const node = running.find((n) => n.port === port)
    if (node === undefined || hasExited(node.process)) return
    const exited = new Promise((resolve) => node.process.once('exit', resolve))
    node.process.kill('SIGKILL')
    await exited
  }
  return { nodes: running.map((n) => ({ host, port: n.port })), stop, masters: masterNodes, kill }
}

async function startNode (port: number, nodeTimeoutMs?: number): Promise<RunningNode> {
  const dir = await mkdtemp(join(tmpdir(), 'popguard-redis-cluster-'))
  const child = spawn('redis-server', [
    '--port', String(port), '--bind', host, '--dir', dir, '--logfile', 'redis.log',
    '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf',
    '--save', '', '--appendonly', 'no',
    ...(nodeTimeoutMs === undefined ? [] : ['--cluster-node-timeout', String(nodeTimeoutMs), '--cluster-replica-validity-factor', '0'])
  ], { cwd: dir, stdio: 'ignore' })
  const node: RunningNode = { port, dir, process: child }
  children.add(child)
  child.once('error', (err) => { node.error = err })
  child.once('exit', () => children.delete(child))
  return node
}

const hasExited = (child: ChildProcess): boolean => child.exitCode !== null || child.signalCode !== null

async function stopNode (node: RunningNode): Promise<void> {
  const { process: child } = node
  if (node.error === undefined && !hasExited(child)) {
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGKILL') // nothing to save: the data is throwaway
    await exited
  }
  await rm(node.dir, { recursive: true, force: true })
}

async function cli (port: number, ...args: string[]): Promise<string> {
  try {
    const { stdout } = await run('redis-cli', ['-h', host, '-p', String(port), ...args])
    return stdout.trim()
  } catch {
    return ''
  }
}

// Polls until check() holds; fails early, with the node's log, if redis-server has exited.
async function waitFor (node: RunningNode, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (node.error !== undefined) throw node.error
    if (hasExited(node.process) || Date.now() > deadline) {
      const log = await readFile(join(node.dir, 'redis.log'), 'utf8').catch(() => '')
      throw new Error(`redis-server on port ${node.port} is not ready:\n${log.slice(-2000)}`)
    }
    await sleep(50)
  }
}

// Ports whose cluster bus port (port + 10000) is free too. All stay bound until every one
// is chosen, so no two nodes get the same port.
async function freePorts (count: number): Promise<number[]> {
  const held: Server[] = []
  const ports: number[] = []
  try {
    while (ports.length < count) {
      if (held.length > 20 * count) throw new Error('no free port pairs for the cluster')
      const server = await listen(0)
      held.push(server)
      const port = (server.address() as { port: number }).port
      if (port + busOffset > 65535) continue
      const bus = await listen(port + busOffset).catch(() => null)
      if (bus === null) continue
      held.push(bus)
      ports.push(port)
    }
    return ports
  } finally {
    await Promise.all(held.map((s) => new Promise((resolve) => s.close(resolve))))
  }
}

function listen (port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(port, host, () => resolve(server))
  })
}
