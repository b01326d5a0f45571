import { Type, type Static } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import type { RedisTarget } from '../redis/connection.js'
import { DEFAULT_STORE_TIMEOUT_MS } from '../redis/deadline.js'
import { DEV_API_KEYS, parseApiKeys, type ApiKey } from './api-keys.js'
import { parseEndUserTokens, type EndUserTokenRules } from './end-user-tokens.js'
import { parsePreferenceLinks, type PreferenceLinkRules } from './preference-links.js'

const Env = Type.Object({
  PORT: Type.Optional(Type.String({ pattern: '^[0-9]{1,5}$' })),
  HOST: Type.Optional(Type.String({ minLength: 1 })),
  REDIS_URL: Type.Optional(Type.String({ pattern: '^rediss?://' })),
  REDIS_CLUSTER_NODES: Type.Optional(Type.String({ pattern: '^[^,:]+:[0-9]{1,5}(,[^,:]+:[0-9]{1,5})*$' })),
  REDIS_SENTINELS: Type.Optional(Type.String({ pattern: '^[^,:]+:[0-9]{1,5}(,[^,:]+:[0-9]{1,5})*$' })),
  REDIS_SENTINEL_NAME: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' })),
  REDIS_USERNAME: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  REDIS_PASSWORD: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
  REDIS_SENTINEL_USERNAME: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  REDIS_SENTINEL_PASSWORD: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
  REDIS_TLS: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')])),
  REDIS_SENTINEL_TLS: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')])),
  POPGUARD_STORE: Type.Optional(Type.Union([Type.Literal('redis'), Type.Literal('memory')])),
  POPGUARD_POLICY_FILE: Type.Optional(Type.String({ minLength: 1 })),
  POPGUARD_POLICY_OVERWRITE: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')])),
  POPGUARD_API_KEYS: Type.Optional(Type.String()),
  POPGUARD_END_USER_TOKENS: Type.Optional(Type.String({ maxLength: 65_536 })),
  POPGUARD_PREFERENCE_LINKS: Type.Optional(Type.String({ maxLength: 65_536 })),
  POPGUARD_LOG_KEY: Type.Optional(Type.String({ minLength: 16 })),
  POPGUARD_USER_KEY: Type.Optional(Type.String({ minLength: 16 })),
  POPGUARD_STORE_TIMEOUT_MS: Type.Optional(Type.String({ pattern: '^[0-9]{1,5}$' })),
  POPGUARD_OVERLIMIT_CACHE_MS: Type.Optional(Type.String({ pattern: '^[0-9]{1,7}$' })),
  POPGUARD_KEY_PREFIX: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_.:-]{1,64}$' })),
  POPGUARD_REPORTS_FLUSH_MS: Type.Optional(Type.String({ pattern: '^[0-9]{1,6}$' })),
  POPGUARD_REPORTS_RETENTION_DAYS: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$' })),
  POPGUARD_REPORTS_MAX_PENDING_USERS: Type.Optional(Type.String({ pattern: '^[0-9]{1,8}$' })),
  POPGUARD_ERASE_RATE: Type.Optional(Type.String({ pattern: '^[0-9]{1,5}$' })),
  POPGUARD_REDIS_WAIT_REPLICAS: Type.Optional(Type.String({ pattern: '^[0-9]$' })),
  POPGUARD_REDIS_WAIT_TIMEOUT_MS: Type.Optional(Type.String({ pattern: '^[0-9]{1,5}$' })),
  POPGUARD_SHED_MAX_IN_FLIGHT: Type.Optional(Type.String({ pattern: '^[0-9]{1,6}$' })),
  POPGUARD_SHED_MAX_EVENT_LOOP_DELAY_MS: Type.Optional(Type.String({ pattern: '^[0-9]{1,5}$' })),
  POPGUARD_SHED_MAX_PER_TURN: Type.Optional(Type.String({ pattern: '^[0-9]{1,6}$' })),
  POPGUARD_SHED_MAX_HEAP_MB: Type.Optional(Type.String({ pattern: '^[0-9]{1,6}$' })),
  POPGUARD_SHED_RETRY_AFTER_S: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$' })),
  POPGUARD_SIMULATE_LOG_FILE: Type.Optional(Type.String({ minLength: 1 })),
  POPGUARD_SIMULATE_MAX_UPLOAD_BYTES: Type.Optional(Type.String({ pattern: '^[0-9]{1,10}$' })),
  POPGUARD_SIMULATE_MAX_USERS: Type.Optional(Type.String({ pattern: '^[0-9]{1,8}$' })),
  POPGUARD_SIMULATE_TIMEOUT_MS: Type.Optional(Type.String({ pattern: '^[0-9]{1,7}$' })),
  LOG_LEVEL: Type.Optional(Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)))),
  NODE_ENV: Type.Optional(Type.String()),
  POPGUARD_COMMIT: Type.Optional(Type.String({ pattern: '^[0-9A-Za-z._+-]{1,64}$' }))
})
type Env = Static<typeof Env>
const envChecker = TypeCompiler.Compile(Env)

export interface AppConfig {
  port: number
  host: string
  production: boolean
  /** null: the in-memory store (one instance only). */
  redis: RedisTarget | null
  /** null: the example policy shipped in examples/ (development only). */
  policyFile: string | null
  /** The policy file replaces the stored policy at boot (normally it only seeds an empty store). */
  policyOverwrite: boolean
  apiKeys: ApiKey[]
  /** API keys that require an end-user token naming the user (device calls), by key name: POPGUARD_END_USER_TOKENS. */
  endUserTokens: ReadonlyMap<string, EndUserTokenRules>
  /** Links to the preference centre (POPGUARD_PREFERENCE_LINKS); null: the preference centre is off. */
  preferenceLinks: PreferenceLinkRules | null
  /** True when the development keys of the README are in use. */
  devKeys: boolean
  logKey: string
  logKeyIsDefault: boolean
  /**
   * The secret user tags in store keys are derived from: POPGUARD_USER_KEY, else the log key.
   * Changing it orphans every user's stored state (caps, preferences), so the log key can be
   * rotated alone by setting POPGUARD_USER_KEY to the old one.
   */
  userKey: string
  logLevel: string
  /**
   * Report counts: how often each instance flushes them (ms), how long Redis keeps them (days),
   * and how many distinct user pseudonyms per day and cohort wait in memory for a flush.
   */
  reports: { flushEveryMs: number, retentionDays: number, maxPendingUsers: number }
  /** Erasures a second each API key may ask of one instance (a token bucket, one second's burst). */
  eraseRate: number
  /**
   * POST /v1/policy/simulate (docs/simulator.md): the decision log it may read (null: uploads only),
   * the largest upload (bytes), and the bounds of one replay: distinct users held, time spent.
   */
  simulate: { logFile: string | null, maxUploadBytes: number, maxUsers: number, timeoutMs: number }
  /**
   * The over-limit cache's maximum staleness (ms; 0: no cache): how long an instance may answer a
   * capped user's marketing requests without Redis after Redis said so (docs/architecture.md).
   */
  overLimitCacheMs: number
  /**
   * Strict replication (POPGUARD_REDIS_WAIT_REPLICAS > 0): every decision waits for that many
   * replicas to acknowledge its writes (WAIT), else it is answered by onStoreFailure. null: off.
   */
  waitReplicas: { replicas: number, timeoutMs: number } | null
  /** Load-shedding limits (POPGUARD_SHED_*; 0 turns one off): past one, 503 with Retry-After at once. */
  shedding: SheddingLimits
  /** Key prefix in Redis (POPGUARD_KEY_PREFIX, default `pg:v1:`): several deployments or test runs can share one Redis. */
  keyPrefix?: string
  /** The commit the image was built from (POPGUARD_COMMIT, set by the Dockerfile's build argument), or `unknown`. */
  commit: string
}

export class ConfigError extends Error {
  constructor (variable: string, problem: string) {
    super(`${variable}: ${problem}`)
    this.name = 'ConfigError'
  }
}

export const DEFAULT_OVERLIMIT_CACHE_MS = 60_000
const MAX_OVERLIMIT_CACHE_MS = 3_600_000
const DEV_LOG_KEY = 'popguard-development-log-key'

/** Load-shedding limits (src/plugins/shed-gate.ts): past any of them a request is answered 503. */
export interface SheddingLimits {
  /** Requests being answered at once (parsed, not yet answered): the queue this instance holds. */
  maxInFlight: number
  /** Event-loop delay (a 10 ms timer firing late) past which the admitted share is cut, ms. */
  maxEventLoopDelayMs: number
  /** Requests admitted in one turn of the event loop; the rest of that turn's are shed. */
  maxPerTurn: number
  /** V8 heap in use, bytes. */
  maxHeapUsedBytes: number
  /** What `Retry-After` says, seconds. */
  retryAfterSeconds: number
}

/** Load-shedding defaults, chosen with `npm run bench:shedding` on a 2-core machine (docs/benchmark.md, "Load shedding"). */
export const DEFAULT_SHEDDING: SheddingLimits = { maxInFlight: 256, maxEventLoopDelayMs: 10, maxPerTurn: 32, maxHeapUsedBytes: 1024 * 2 ** 20, retryAfterSeconds: 1 }

function checkShape (env: Record<string, string | undefined>): Env {
  const picked = Object.fromEntries(Object.keys(Env.properties).filter((k) => env[k] !== undefined && env[k] !== '').map((k) => [k, env[k]]))
  const error = envChecker.Errors(picked).First()
  if (error !== undefined) {
    throw new ConfigError(error.path.slice(1), `invalid value (${error.message})`)
  }
  return picked as Env
}

function parseNodes (variable: string, text: string): { host: string, port: number }[] {
  const nodes = text.split(',').map((hp) => {
    const [host, port] = hp.split(':')
    return { host: host ?? '', port: Number(port) }
  })
  if (nodes.some((n) => n.port < 1 || n.port > 65535)) throw new ConfigError(variable, 'ports must be 1-65535')
  return nodes
}

const REDIS_VARIABLES = 'REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS'

/**
 * Where Redis is: one of REDIS_URL, REDIS_CLUSTER_NODES, REDIS_SENTINELS (+ REDIS_SENTINEL_NAME),
 * with credentials and TLS as ioredis takes them; null for the in-memory store, which production
 * accepts only when POPGUARD_STORE=memory says so (caps would otherwise be counted per instance).
 */
function redisTarget (e: Env, production: boolean, commandTimeoutMs: number): RedisTarget | null {
  const given = (['REDIS_URL', 'REDIS_CLUSTER_NODES', 'REDIS_SENTINELS'] as const).filter((v) => e[v] !== undefined)
  if (given.length > 1) throw new ConfigError(given[1] as string, `set only one of ${REDIS_VARIABLES} (also set: ${given.filter((v) => v !== given[1]).join(', ')})`)
  if (e.REDIS_SENTINEL_NAME !== undefined && e.REDIS_SENTINELS === undefined) throw new ConfigError('REDIS_SENTINEL_NAME', 'needs REDIS_SENTINELS')
  if (e.POPGUARD_STORE === 'memory') {
    if (given.length > 0) throw new ConfigError('POPGUARD_STORE', `memory, yet ${given[0] as string} is set: choose one store`)
    return null
  }
  if (given.length === 0) {
    if (e.POPGUARD_STORE === 'redis') throw new ConfigError('POPGUARD_STORE', `redis needs one of ${REDIS_VARIABLES}`)
    if (production) {
      throw new ConfigError(REDIS_VARIABLES, 'one is required when NODE_ENV=production (or POPGUARD_STORE=memory: one instance only, caps kept in its memory)')
    }
    return null
  }
  const auth = {
    ...(e.REDIS_USERNAME === undefined ? {} : { username: e.REDIS_USERNAME }),
    ...(e.REDIS_PASSWORD === undefined ? {} : { password: e.REDIS_PASSWORD }),
    ...(e.REDIS_TLS === 'true' ? { tls: true } : {})
  }
  if (e.REDIS_SENTINELS !== undefined) {
    if (e.REDIS_SENTINEL_NAME === undefined) throw new ConfigError('REDIS_SENTINEL_NAME', 'required with REDIS_SENTINELS: the master\'s name the sentinels monitor')
    return {
      sentinels: parseNodes('REDIS_SENTINELS', e.REDIS_SENTINELS),
      sentinelName: e.REDIS_SENTINEL_NAME,
      ...auth,
      ...(e.REDIS_SENTINEL_USERNAME === undefined ? {} : { sentinelUsername: e.REDIS_SENTINEL_USERNAME }),
      ...(e.REDIS_SENTINEL_PASSWORD === undefined ? {} : { sentinelPassword: e.REDIS_SENTINEL_PASSWORD }),
      ...(e.REDIS_SENTINEL_TLS === 'true' ? { sentinelTls: true } : {}),
      commandTimeoutMs
    }
  }
  for (const v of ['REDIS_SENTINEL_USERNAME', 'REDIS_SENTINEL_PASSWORD', 'REDIS_SENTINEL_TLS'] as const) {
    if (e[v] !== undefined) throw new ConfigError(v, 'needs REDIS_SENTINELS')
  }
  if (e.REDIS_CLUSTER_NODES !== undefined) return { clusterNodes: parseNodes('REDIS_CLUSTER_NODES', e.REDIS_CLUSTER_NODES), ...auth, commandTimeoutMs }
  return { url: e.REDIS_URL, ...auth, commandTimeoutMs }
}

/** POPGUARD_REDIS_WAIT_REPLICAS and its timeout, which must leave the store deadline room for the script. */
function readWaitReplicas (e: Env, redis: RedisTarget | null, storeTimeoutMs: number): { replicas: number, timeoutMs: number } | null {
  const replicas = Number(e.POPGUARD_REDIS_WAIT_REPLICAS ?? 0)
  const timeoutMs = Number(e.POPGUARD_REDIS_WAIT_TIMEOUT_MS ?? Math.floor(storeTimeoutMs / 2))
  if (e.POPGUARD_REDIS_WAIT_TIMEOUT_MS !== undefined && replicas === 0) throw new ConfigError('POPGUARD_REDIS_WAIT_TIMEOUT_MS', 'needs POPGUARD_REDIS_WAIT_REPLICAS')
  if (replicas === 0) return null
  if (redis === null) throw new ConfigError('POPGUARD_REDIS_WAIT_REPLICAS', 'needs Redis (the memory store has no replicas)')
  if (timeoutMs < 1 || timeoutMs > storeTimeoutMs * 0.8) {
    throw new ConfigError('POPGUARD_REDIS_WAIT_TIMEOUT_MS', `must be 1 to 80% of POPGUARD_STORE_TIMEOUT_MS (${Math.floor(storeTimeoutMs * 0.8)})`)
  }
  return { replicas, timeoutMs }
}

/** Reads and checks the environment; a bad value throws ConfigError naming the variable. */
export function loadConfig (env: Record<string, string | undefined> = process.env): AppConfig {
  const e = checkShape(env)
  const production = e.NODE_ENV === 'production'
  const port = Number(e.PORT ?? 3000)
  if (port < 1 || port > 65535) throw new ConfigError('PORT', 'must be 1-65535')
  const timeout = Number(e.POPGUARD_STORE_TIMEOUT_MS ?? DEFAULT_STORE_TIMEOUT_MS)
  if (timeout < 1) throw new ConfigError('POPGUARD_STORE_TIMEOUT_MS', 'must be at least 1')

  const flushEveryMs = Number(e.POPGUARD_REPORTS_FLUSH_MS ?? 5000)
  if (flushEveryMs < 100 || flushEveryMs > 300_000) throw new ConfigError('POPGUARD_REPORTS_FLUSH_MS', 'must be 100-300000')
  const retentionDays = Number(e.POPGUARD_REPORTS_RETENTION_DAYS ?? 400)
  if (retentionDays < 1 || retentionDays > 3660) throw new ConfigError('POPGUARD_REPORTS_RETENTION_DAYS', 'must be 1-3660')
  const maxPendingUsers = Number(e.POPGUARD_REPORTS_MAX_PENDING_USERS ?? 50_000)
  if (maxPendingUsers < 1) throw new ConfigError('POPGUARD_REPORTS_MAX_PENDING_USERS', 'must be at least 1')
  const simulate = {
    logFile: e.POPGUARD_SIMULATE_LOG_FILE ?? null,
    maxUploadBytes: Number(e.POPGUARD_SIMULATE_MAX_UPLOAD_BYTES ?? 32 * 1024 * 1024),
    maxUsers: Number(e.POPGUARD_SIMULATE_MAX_USERS ?? 200_000),
    timeoutMs: Number(e.POPGUARD_SIMULATE_TIMEOUT_MS ?? 20_000)
  }
  if (simulate.maxUploadBytes < 1024) throw new ConfigError('POPGUARD_SIMULATE_MAX_UPLOAD_BYTES', 'must be at least 1024')
  if (simulate.maxUsers < 1) throw new ConfigError('POPGUARD_SIMULATE_MAX_USERS', 'must be at least 1')
  if (simulate.timeoutMs < 100) throw new ConfigError('POPGUARD_SIMULATE_TIMEOUT_MS', 'must be at least 100')
  const overLimitCacheMs = Number(e.POPGUARD_OVERLIMIT_CACHE_MS ?? DEFAULT_OVERLIMIT_CACHE_MS)
  if (overLimitCacheMs > MAX_OVERLIMIT_CACHE_MS) throw new ConfigError('POPGUARD_OVERLIMIT_CACHE_MS', `must be 0-${MAX_OVERLIMIT_CACHE_MS}`)
  const eraseRate = Number(e.POPGUARD_ERASE_RATE ?? 10)
  if (eraseRate < 1) throw new ConfigError('POPGUARD_ERASE_RATE', 'must be at least 1')

  if (production && e.POPGUARD_API_KEYS === undefined) throw new ConfigError('POPGUARD_API_KEYS', 'required when NODE_ENV=production')
  if (production && e.POPGUARD_POLICY_FILE === undefined) throw new ConfigError('POPGUARD_POLICY_FILE', 'required when NODE_ENV=production')
  if (production && e.POPGUARD_LOG_KEY === undefined) throw new ConfigError('POPGUARD_LOG_KEY', 'required when NODE_ENV=production')
  let apiKeys: ApiKey[]
  try {
    apiKeys = parseApiKeys(e.POPGUARD_API_KEYS ?? DEV_API_KEYS)
  } catch (err) {
    throw new ConfigError('POPGUARD_API_KEYS', (err as Error).message)
  }
  if (apiKeys.length === 0) throw new ConfigError('POPGUARD_API_KEYS', 'no keys given')
  let endUserTokens = new Map<string, EndUserTokenRules>()
  try {
    if (e.POPGUARD_END_USER_TOKENS !== undefined) endUserTokens = parseEndUserTokens(e.POPGUARD_END_USER_TOKENS, new Set(apiKeys.map((k) => k.name)))
  } catch (err) {
    throw new ConfigError('POPGUARD_END_USER_TOKENS', (err as Error).message)
  }

  let preferenceLinks: PreferenceLinkRules | null = null
  try {
    if (e.POPGUARD_PREFERENCE_LINKS !== undefined) preferenceLinks = parsePreferenceLinks(e.POPGUARD_PREFERENCE_LINKS)
  } catch (err) {
    throw new ConfigError('POPGUARD_PREFERENCE_LINKS', (err as Error).message)
  }
  for (const [name, r] of endUserTokens) {
    if (preferenceLinks !== null && r.issuer === preferenceLinks.issuer && r.audience === preferenceLinks.audience) {
      throw new ConfigError('POPGUARD_PREFERENCE_LINKS', `the issuer and audience of the end-user tokens of "${name}": give links an audience of their own, so that a token for device calls never opens the preference centre`)
    }
  }

  const redis = redisTarget(e, production, timeout)
  const waitReplicas = readWaitReplicas(e, redis, timeout)
  const shedding: SheddingLimits = {
    maxInFlight: Number(e.POPGUARD_SHED_MAX_IN_FLIGHT ?? DEFAULT_SHEDDING.maxInFlight),
    maxEventLoopDelayMs: Number(e.POPGUARD_SHED_MAX_EVENT_LOOP_DELAY_MS ?? DEFAULT_SHEDDING.maxEventLoopDelayMs),
    maxPerTurn: Number(e.POPGUARD_SHED_MAX_PER_TURN ?? DEFAULT_SHEDDING.maxPerTurn),
    maxHeapUsedBytes: Number(e.POPGUARD_SHED_MAX_HEAP_MB ?? DEFAULT_SHEDDING.maxHeapUsedBytes / 2 ** 20) * 2 ** 20,
    retryAfterSeconds: Number(e.POPGUARD_SHED_RETRY_AFTER_S ?? DEFAULT_SHEDDING.retryAfterSeconds)
  }
  if (shedding.retryAfterSeconds < 1) throw new ConfigError('POPGUARD_SHED_RETRY_AFTER_S', 'must be at least 1')

  return {
    port,
    host: e.HOST ?? '0.0.0.0',
    production,
    redis,
    policyFile: e.POPGUARD_POLICY_FILE ?? null,
    policyOverwrite: e.POPGUARD_POLICY_OVERWRITE === 'true',
    apiKeys,
    endUserTokens,
    preferenceLinks,
    devKeys: e.POPGUARD_API_KEYS === undefined,
    logKey: e.POPGUARD_LOG_KEY ?? DEV_LOG_KEY,
    logKeyIsDefault: e.POPGUARD_LOG_KEY === undefined,
    userKey: e.POPGUARD_USER_KEY ?? e.POPGUARD_LOG_KEY ?? DEV_LOG_KEY,
    logLevel: e.LOG_LEVEL ?? 'info',
    reports: { flushEveryMs, retentionDays, maxPendingUsers },
    commit: e.POPGUARD_COMMIT ?? 'unknown',
    eraseRate,
    shedding,
    waitReplicas,
    simulate,
    overLimitCacheMs,
    ...(e.POPGUARD_KEY_PREFIX === undefined ? {} : { keyPrefix: e.POPGUARD_KEY_PREFIX })
  }
}
