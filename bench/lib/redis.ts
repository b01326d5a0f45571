/** The benchmark's private redis-server and what it reads from it. */
import { Redis } from 'ioredis'
import { freePort, startChild } from './processes.js'

export interface BenchRedis {
  port: number
  /** A URL for one logical database, so each phase's keys stay apart. */
  url (db: number): string
  /** An admin connection to one database (not used on the measured path). */
  admin (db: number): Redis
  /** Closes the admin connections. */
  close (): void
}

export async function startRedis (dir: string): Promise<BenchRedis> {
  const port = await freePort()
  await startChild('redis-server', 'redis-server', [
    '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir
  ], { stdoutFile: `${dir}/redis.log` })
  const admins = new Map<number, Redis>()
  const admin = (db: number): Redis => {
    let client = admins.get(db)
    if (client === undefined) {
      client = new Redis({ port, host: '127.0.0.1', db, maxRetriesPerRequest: 1 })
      client.on('error', () => {})
      admins.set(db, client)
    }
    return client
  }
  const deadline = Date.now() + 5000
  for (;;) {
    try {
      await admin(0).ping()
      break
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer: ${(err as Error).message}`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
  const close = (): void => {
    for (const client of admins.values()) client.disconnect()
    admins.clear()
  }
  return { port, url: (db) => `redis://127.0.0.1:${port}/${db}`, admin, close }
}

/** `INFO commandstats` as command name -> calls. */
export async function commandCalls (client: Redis): Promise<Map<string, number>> {
  return new Map([...await commandStats(client)].map(([cmd, s]) => [cmd, s.calls]))
}

/** `INFO commandstats` as command name -> calls and microseconds spent. */
export async function commandStats (client: Redis): Promise<Map<string, { calls: number, usec: number }>> {
  const text = await client.info('commandstats')
  const stats = new Map<string, { calls: number, usec: number }>()
  for (const m of text.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) stats.set(m[1] ?? '', { calls: Number(m[2]), usec: Number(m[3]) })
  return stats
}

export function callsDelta (before: Map<string, number>, after: Map<string, number>): Map<string, number> {
  const delta = new Map<string, number>()
  for (const [cmd, n] of after) {
    const d = n - (before.get(cmd) ?? 0)
    if (d > 0) delta.set(cmd, d)
  }
  return delta
}

export async function usedMemory (client: Redis): Promise<number> {
  const text = await client.info('memory')
  return Number(/^used_memory:(\d+)/m.exec(text)?.[1] ?? NaN)
}

/**
 * Every per-user key of the database (hash tag `{u:...}`) with its MEMORY USAGE and PTTL.
 * Instance-wide keys (`{gov}` configuration, kept without TTL by design, and `{agg}` report
 * counters) are not per-user state; they are counted apart.
 */
export async function keyCensus (client: Redis): Promise<{ keys: number, bytes: number, withoutTtl: string[], shared: number }> {
  let shared = 0
  let cursor = '0'
  let keys = 0
  let bytes = 0
  const withoutTtl: string[] = []
  do {
    const [next, batch] = await client.scan(cursor, 'COUNT', 1000)
    cursor = next
    if (batch.length === 0) continue
    const userKeys = batch.filter((key) => key.includes('{u:'))
    shared += batch.length - userKeys.length
    if (userKeys.length === 0) continue
    const pipe = client.pipeline()
    for (const key of userKeys) {
      pipe.call('MEMORY', 'USAGE', key, 'SAMPLES', '0')
      pipe.pttl(key)
    }
    const replies = await pipe.exec() ?? []
    userKeys.forEach((key, i) => {
      const usage = replies[2 * i]?.[1]
      const pttl = replies[2 * i + 1]?.[1]
      keys++
      bytes += typeof usage === 'number' ? usage : 0
      if (typeof pttl !== 'number' || pttl <= 0) withoutTtl.push(key)
    })
  } while (cursor !== '0')
  return { keys, bytes, withoutTtl, shared }
}
