import { Redis, Cluster, type ClusterOptions, type RedisOptions } from 'ioredis'

export interface RedisTarget {
  url?: string
  clusterNodes?: { host: string, port: number }[]
  /** Redis with Sentinel failover: the sentinels to ask, and the master's name they monitor. */
  sentinels?: { host: string, port: number }[]
  sentinelName?: string
  /** Credentials and TLS of the data nodes (standalone, Cluster, Sentinel's master and replicas). */
  username?: string
  password?: string
  tls?: boolean
  /** Credentials and TLS of the sentinels themselves. */
  sentinelUsername?: string
  sentinelPassword?: string
  sentinelTls?: boolean
  /** Deadline of one command, ms. */
  commandTimeoutMs: number
}

export type RedisClient = Redis | Cluster

/**
 * How a client behaves when Redis is slow or away; every Redis client of the service is built
 * here, with one of these.
 * - decision: no offline queue (a command either goes now or fails now), nothing re-sent after a
 *   reconnect (a timed-out decision may already have run).
 * - report: the same: a flush not sent is kept by the flusher and sent again, so it must be
 *   refused at once, never parked in a queue where it is neither sent nor refused.
 * - governance: the offline queue is on: admin work may wait for a reconnect within the deadline,
 *   and every commit is a compare-and-set, so a command sent twice cannot apply twice.
 * All reconnect forever in the background.
 */
export type ConnectionProfile = 'decision' | 'report' | 'governance'

const FAIL_FAST: Profile = {
  redis: {
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 0,
    // Off: ioredis runs one auto-pipeline per connection at a time, so a decision waits for the
    // batch in flight before its own is sent, and the batches outlive young-generation GCs.
    // Measured without it: 10,200-12,500 -> 13,100-15,300 decides/s, a third less GC pause (docs/benchmark.md).
    enableAutoPipelining: false
  },
  cluster: {
    enableOfflineQueue: false,
    enableAutoPipelining: false,
    clusterRetryStrategy: (times) => Math.min(times * 100, 2000)
  }
}

interface Profile { redis: RedisOptions, cluster: Omit<ClusterOptions, 'redisOptions'> }

const PROFILES: Record<ConnectionProfile, Profile> = {
  decision: FAIL_FAST,
  report: FAIL_FAST,
  governance: { redis: { maxRetriesPerRequest: 1 }, cluster: {} }
}

/** A client for one profile (the decision path's unless told): standalone, Sentinel or Redis Cluster. */
export function createRedisClient (target: RedisTarget, profile: ConnectionProfile = 'decision'): RedisClient {
  const { redis, cluster } = PROFILES[profile]
  const options: RedisOptions = {
    ...redis,
    commandTimeout: target.commandTimeoutMs,
    connectTimeout: 2000,
    retryStrategy: (times) => Math.min(times * 50, 1000)
  }
  return connectTo(target, options, cluster)
}

/**
 * A client for one connection profile (Sentinel, Cluster or one URL), with the target's
 * credentials and TLS over the given options.
 */
export function connectTo (target: RedisTarget, options: RedisOptions, clusterOptions: Omit<ClusterOptions, 'redisOptions'> = {}): RedisClient {
  const withAuth: RedisOptions = {
    ...options,
    ...(target.username === undefined ? {} : { username: target.username }),
    ...(target.password === undefined ? {} : { password: target.password }),
    ...(target.tls === true ? { tls: {} } : {})
  }
  if (target.sentinels !== undefined && target.sentinels.length > 0) {
    if (target.sentinelName === undefined) throw new Error('a Sentinel master name is required')
    return new Redis({
      ...withAuth,
      sentinels: target.sentinels,
      name: target.sentinelName,
      role: 'master',
      // Sentinel announces a new master (+switch-master): reconnect at once rather than on the next error.
      failoverDetector: true,
      sentinelRetryStrategy: (times) => Math.min(times * 100, 1000),
      ...(target.sentinelUsername === undefined ? {} : { sentinelUsername: target.sentinelUsername }),
      ...(target.sentinelPassword === undefined ? {} : { sentinelPassword: target.sentinelPassword }),
      // ioredis speaks TLS to the master and replicas Sentinel names only with this flag.
      ...(target.tls === true ? { enableTLSForSentinelMode: true } : {}),
      ...(target.sentinelTls === true ? { sentinelTLS: {} } : {})
    })
  }
  if (target.clusterNodes !== undefined && target.clusterNodes.length > 0) {
    return new Cluster(target.clusterNodes, { ...clusterOptions, redisOptions: withAuth })
  }
  if (target.url === undefined) throw new Error('a Redis URL, cluster nodes or sentinels are required')
  return new Redis(target.url, withAuth)
}

/** Resolves true once the client is ready, or false after timeoutMs; never throws. */
export async function waitForReady (client: RedisClient, timeoutMs: number): Promise<boolean> {
  if (client.status === 'ready') return true
  return await new Promise((resolve) => {
    const done = (ok: boolean): void => {
      clearTimeout(timer)
      client.off('ready', onReady)
      resolve(ok)
    }
    const onReady = (): void => done(true)
    const timer = setTimeout(() => done(false), timeoutMs)
    client.once('ready', onReady)
  })
}
