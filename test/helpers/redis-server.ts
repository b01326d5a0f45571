import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'

export interface RedisServer {
  url: string
  port: number
  /** Stops the server (SIGKILL: like a crash); `start` brings it back on the same port, empty, with any extra `redis-server` arguments. */
  stop (): Promise<void>
  start (extraArgs?: string[]): Promise<void>
}

export async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const srv = createServer()
    srv.unref()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address()
      srv.close(() => { resolve(typeof address === 'object' && address !== null ? address.port : 0) })
    })
  })
}

async function waitForPing (port: number, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
    client.on('error', () => {})
    try {
      await client.connect()
      await client.ping()
      client.disconnect()
      return
    } catch {
      client.disconnect()
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
  throw new Error(`redis-server on port ${port} did not answer within ${timeoutMs} ms`)
}

/** Starts a private `redis-server` from the PATH on a free port, in a temporary folder. */
export async function startRedisServer (): Promise<RedisServer> {
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'popguard-redis-'))
  let child: ChildProcess | null = null
  const start = async (extraArgs: string[] = []): Promise<void> => {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...extraArgs]
    const proc = spawn('redis-server', args, { stdio: 'ignore' })
    await new Promise<void>((resolve, reject) => {
      proc.once('spawn', resolve)
      proc.once('error', reject)
    })
    child = proc
    await waitForPing(port)
  }
  const stop = async (): Promise<void> => {
    const proc = child
    child = null
    if (proc === null || proc.exitCode !== null) return
    await new Promise<void>((resolve) => {
      proc.once('exit', () => resolve())
      proc.kill('SIGKILL')
    })
  }
  await start()
  process.once('exit', () => { (child as ChildProcess | null)?.kill('SIGKILL'); rmSync(dir, { recursive: true, force: true }) })
  return { url: `redis://127.0.0.1:${port}`, port, stop, start }
}
