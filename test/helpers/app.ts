import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { Redis } from 'ioredis'
import { inject } from 'vitest'
import { buildApp } from '../../src/app.js'
import { loadConfig, type AppConfig } from '../../src/config/config.js'
import { userTagger } from '../../src/rules/decide/codes.js'
import { MemoryGovernanceStore } from '../../src/memory/governance-store.js'
import { RedisGovernanceStore } from '../../src/redis/governance/redis-governance-store.js'
import type { Campaign, Policy, PolicyFile } from '../../src/rules/policy/schema.js'
import { MemoryStore } from '../../src/memory/user-store.js'
import { createRedisClient } from '../../src/redis/connection.js'
import { clientTimeoutFor } from '../../src/redis/deadline.js'
import { RedisStore } from '../../src/redis/user-store/redis-user-store.js'
import { RedisInvalidationBus } from '../../src/redis/invalidation-bus.js'
import type { Store } from '../../src/store/user-store.js'

export const STORE_KINDS = ['memory', 'redis'] as const
/** Redis with the over-limit cache on (60 s), its invalidation on Redis pub/sub: the answers must not change. */
export const CACHED_STORE_KINDS = [...STORE_KINDS, 'redis-cached'] as const
export type StoreKind = typeof CACHED_STORE_KINDS[number]

export const CLIENT_KEY = 'dev-client-key'
export const AUTH = { authorization: `Bearer ${CLIENT_KEY}` }

export function policy (over: Partial<Policy> = {}): Policy {
  return {
    defaultTimezone: 'UTC',
    caps: [],
    mode: 'enforce',
    onStoreFailure: { marketing: 'suppress', service: 'allow', critical: 'allow' },
    ...over
  }
}

export function campaign (id: string, over: Partial<Campaign> = {}): Campaign {
  return { id, name: id, class: 'marketing', category: 'promo', priority: 50, status: 'active', startsAt: null, endsAt: null, caps: [], ...over }
}

/** A clock the test moves by hand for rules that span hours or days. */
export class TestClock {
  constructor (public ms = Date.parse('2026-06-01T12:00:00Z')) {}
  readonly now = (): number => this.ms
  advance (ms: number): void { this.ms += ms }
}

/** A unique key prefix per app, so tests share one Redis without flushing it. */
export const uniquePrefix = (): string => `pg:test:${randomUUID().slice(0, 8)}:`

/** No load shedding: a loaded test machine must not shed another test's requests (test/load-shedding.test.ts turns it on). */
export const NO_SHEDDING: AppConfig['shedding'] = { maxInFlight: 0, maxEventLoopDelayMs: 0, maxPerTurn: 0, maxHeapUsedBytes: 0, retryAfterSeconds: 1 }

/** The over-limit cache is off unless a test turns it on (kind `redis-cached`, or `overLimitCacheMs`). */
export function testConfig (over: Partial<AppConfig> = {}): AppConfig {
  return { ...loadConfig({ LOG_LEVEL: 'silent' }), overLimitCacheMs: 0, shedding: NO_SHEDDING, ...over }
}

/** The over-limit cache's invalidation channel under a test's key prefix. */
export function redisInvalidation (prefix: string, url = inject('redisUrl')): RedisInvalidationBus {
  return new RedisInvalidationBus({ url, commandTimeoutMs: 1000 }, { keyPrefix: prefix, onConnectionError: () => {} })
}

/** The user tag in store keys of an app built with testConfig() (its development user key). */
export const userTag = (userId: string): string => userTagger(testConfig().userKey)(userId)

export function redisStore (prefix: string, url = inject('redisUrl'), timeoutMs = 200): RedisStore {
  return new RedisStore(createRedisClient({ url, commandTimeoutMs: clientTimeoutFor(timeoutMs) }), { keyPrefix: prefix, timeoutMs, onConnectionError: () => {} })
}

/** The governance store (policy, campaigns, penalties, audit) under the same prefix as the user store. */
export function redisGovernance (prefix: string, url = inject('redisUrl')): RedisGovernanceStore {
  return new RedisGovernanceStore({ url, commandTimeoutMs: 2000 }, { keyPrefix: prefix, onConnectionError: () => {} })
}

export interface TestApp {
  app: FastifyInstance
  store: Store
  prefix: string
  decide (body: Record<string, unknown>): Promise<{ status: number, body: any }>
  close (): Promise<void>
}

export interface TestAppOptions {
  clock?: TestClock
  prefix?: string
  logger?: any
  config?: Partial<AppConfig>
  /** A Redis of the test's own (test/helpers/redis-server.ts) instead of the suite's. */
  redisUrl?: string
  /** The governance revision check interval (ms). */
  checkEveryMs?: number
}

export async function testApp (kind: StoreKind, file: PolicyFile, opts: TestAppOptions = {}): Promise<TestApp> {
  const prefix = opts.prefix ?? uniquePrefix()
  const store = kind === 'memory' ? new MemoryStore(opts.clock?.now) : redisStore(prefix, opts.redisUrl)
  const governance = kind === 'memory' ? new MemoryGovernanceStore() : redisGovernance(prefix, opts.redisUrl)
  const cached = kind === 'redis-cached'
  const app = await buildApp(testConfig({ ...(cached ? { overLimitCacheMs: 60_000 } : {}), ...opts.config }), {
    policy: file,
    store,
    governance,
    clock: opts.clock?.now,
    logger: opts.logger,
    governanceCheckEveryMs: opts.checkEveryMs,
    ...(cached ? { invalidation: redisInvalidation(prefix, opts.redisUrl) } : {})
  })
  return {
    app,
    store,
    prefix,
    async decide (body) {
      const res = await app.inject({ method: 'POST', url: '/v1/decide', headers: AUTH, payload: body })
      return { status: res.statusCode, body: res.json() }
    },
    close: () => app.close()
  }
}

/** A plain client for looking at the keyspace in assertions. */
export function rawRedis (): Redis {
  return new Redis(inject('redisUrl'))
}

/**
 * An app that builds its own Redis store from configuration (as the server does, so store-call
 * metrics and the breaker are wired) on the Redis at `url`, with one campaign `a`.
 */
export async function appOnRedis (url: string): Promise<FastifyInstance> {
  return await buildApp(testConfig({ redis: { url, commandTimeoutMs: 200 }, keyPrefix: uniquePrefix() }), {
    policy: { policy: policy(), campaigns: [campaign('a')] }
  })
}
