import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../src/config/config.js'
import { loadPolicyFile } from '../src/config/policy-file.js'
import { EXAMPLE_POLICY_FILE } from '../src/app.js'

describe('configuration from the environment', () => {
  it('has safe development defaults: port 3000, in-memory store, development keys', () => {
    const c = loadConfig({})
    expect(c.port).toBe(3000)
    expect(c.redis).toBeNull()
    expect(c.devKeys).toBe(true)
    expect(c.apiKeys.map((k) => k.name)).toContain('dev-client')
    expect(c.reports).toEqual({ flushEveryMs: 5000, retentionDays: 400, maxPendingUsers: 50_000 })
    expect(c.keyPrefix).toBeUndefined()
    expect(c.eraseRate).toBe(10)
  })

  it('gives the store 100 ms unless told otherwise, and reads the erasure rate', () => {
    expect(loadConfig({ REDIS_URL: 'redis://r:6379' }).redis?.commandTimeoutMs).toBe(100)
    expect(loadConfig({ REDIS_URL: 'redis://r:6379', POPGUARD_STORE_TIMEOUT_MS: '40' }).redis?.commandTimeoutMs).toBe(40)
    expect(loadConfig({ POPGUARD_ERASE_RATE: '3' }).eraseRate).toBe(3)
  })

  it('keeps over-limit facts at most 60 s unless told otherwise; 0 turns the cache off', () => {
    expect(loadConfig({}).overLimitCacheMs).toBe(60_000)
    expect(loadConfig({ POPGUARD_OVERLIMIT_CACHE_MS: '0' }).overLimitCacheMs).toBe(0)
    expect(loadConfig({ POPGUARD_OVERLIMIT_CACHE_MS: '5000' }).overLimitCacheMs).toBe(5000)
  })

  it('reads the report flush interval, retention, pending-user bound and key prefix', () => {
    const c = loadConfig({ POPGUARD_REPORTS_FLUSH_MS: '2000', POPGUARD_REPORTS_RETENTION_DAYS: '90', POPGUARD_REPORTS_MAX_PENDING_USERS: '1000', POPGUARD_KEY_PREFIX: 'pg:staging:' })
    expect(c.reports).toEqual({ flushEveryMs: 2000, retentionDays: 90, maxPendingUsers: 1000 })
    expect(c.keyPrefix).toBe('pg:staging:')
  })

  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ REDIS_URL: 'localhost:6379' }, 'REDIS_URL'],
    [{ REDIS_CLUSTER_NODES: 'a:1,b' }, 'REDIS_CLUSTER_NODES'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ POPGUARD_REPORTS_FLUSH_MS: '50' }, 'POPGUARD_REPORTS_FLUSH_MS'],
    [{ POPGUARD_OVERLIMIT_CACHE_MS: '3600001' }, 'POPGUARD_OVERLIMIT_CACHE_MS'],
    [{ POPGUARD_OVERLIMIT_CACHE_MS: '-1' }, 'POPGUARD_OVERLIMIT_CACHE_MS'],
    [{ POPGUARD_REPORTS_FLUSH_MS: 'often' }, 'POPGUARD_REPORTS_FLUSH_MS'],
    [{ POPGUARD_REPORTS_RETENTION_DAYS: '0' }, 'POPGUARD_REPORTS_RETENTION_DAYS'],
    [{ POPGUARD_REPORTS_RETENTION_DAYS: '-5' }, 'POPGUARD_REPORTS_RETENTION_DAYS'],
    [{ POPGUARD_KEY_PREFIX: 'has space' }, 'POPGUARD_KEY_PREFIX'],
    [{ POPGUARD_ERASE_RATE: '0' }, 'POPGUARD_ERASE_RATE'],
    [{ POPGUARD_ERASE_RATE: 'many' }, 'POPGUARD_ERASE_RATE'],
    [{ POPGUARD_API_KEYS: 'svc:client:short' }, 'POPGUARD_API_KEYS'],
    [{ POPGUARD_API_KEYS: 'svc:root:a-long-enough-secret' }, 'POPGUARD_API_KEYS'],
    [{ POPGUARD_LOG_KEY: 'short' }, 'POPGUARD_LOG_KEY'],
    [{ POPGUARD_USER_KEY: 'short' }, 'POPGUARD_USER_KEY'],
    [{ POPGUARD_REPORTS_MAX_PENDING_USERS: '0' }, 'POPGUARD_REPORTS_MAX_PENDING_USERS'],
    [{ POPGUARD_REPORTS_MAX_PENDING_USERS: 'many' }, 'POPGUARD_REPORTS_MAX_PENDING_USERS'],
    [{ NODE_ENV: 'production', POPGUARD_POLICY_FILE: 'p.json', POPGUARD_LOG_KEY: 'x'.repeat(32) }, 'POPGUARD_API_KEYS'],
    [{ NODE_ENV: 'production', POPGUARD_API_KEYS: 'svc:client:a-long-enough-secret', POPGUARD_LOG_KEY: 'x'.repeat(32) }, 'POPGUARD_POLICY_FILE'],
    [{ NODE_ENV: 'production', POPGUARD_API_KEYS: 'svc:client:a-long-enough-secret', POPGUARD_POLICY_FILE: 'p.json' }, 'POPGUARD_LOG_KEY'],
    [{ REDIS_SENTINELS: 's1:26379,s2' }, 'REDIS_SENTINELS'],
    [{ REDIS_SENTINELS: 's1:26379,s2:99999', REDIS_SENTINEL_NAME: 'main' }, 'REDIS_SENTINELS'],
    [{ REDIS_SENTINELS: 's1:26379' }, 'REDIS_SENTINEL_NAME'],
    [{ REDIS_SENTINEL_NAME: 'main' }, 'REDIS_SENTINEL_NAME'],
    [{ REDIS_SENTINEL_PASSWORD: 'secret', REDIS_URL: 'redis://r:6379' }, 'REDIS_SENTINEL_PASSWORD'],
    [{ REDIS_TLS: 'yes', REDIS_URL: 'redis://r:6379' }, 'REDIS_TLS'],
    [{ REDIS_URL: 'redis://r:6379', REDIS_SENTINELS: 's1:26379', REDIS_SENTINEL_NAME: 'main' }, 'REDIS_SENTINELS'],
    [{ REDIS_URL: 'redis://r:6379', REDIS_CLUSTER_NODES: 'r1:7000' }, 'REDIS_CLUSTER_NODES'],
    [{ POPGUARD_STORE: 'memory', REDIS_URL: 'redis://r:6379' }, 'POPGUARD_STORE'],
    [{ POPGUARD_STORE: 'redis' }, 'POPGUARD_STORE'],
    [{ POPGUARD_STORE: 'disk' }, 'POPGUARD_STORE'],
    [{ POPGUARD_REDIS_WAIT_REPLICAS: '1' }, 'POPGUARD_REDIS_WAIT_REPLICAS'],
    [{ REDIS_URL: 'redis://r:6379', POPGUARD_REDIS_WAIT_TIMEOUT_MS: '20' }, 'POPGUARD_REDIS_WAIT_TIMEOUT_MS'],
    [{ REDIS_URL: 'redis://r:6379', POPGUARD_REDIS_WAIT_REPLICAS: '1', POPGUARD_REDIS_WAIT_TIMEOUT_MS: '90' }, 'POPGUARD_REDIS_WAIT_TIMEOUT_MS'],
    [{ POPGUARD_SHED_RETRY_AFTER_S: '0' }, 'POPGUARD_SHED_RETRY_AFTER_S'],
    [{ POPGUARD_SHED_MAX_IN_FLIGHT: 'lots' }, 'POPGUARD_SHED_MAX_IN_FLIGHT']
  ])('stops on %o naming %s', (env, variable) => {
    expect(() => loadConfig(env)).toThrow(ConfigError)
    expect(() => loadConfig(env)).toThrow(new RegExp(`^${variable}:`))
  })

  it('reads keys, scopes, Redis and cluster nodes', () => {
    const c = loadConfig({ POPGUARD_API_KEYS: 'app:client+preferences:secret-one-1234, ops:admin:secret-two-1234', REDIS_CLUSTER_NODES: 'r1:7000,r2:7001' })
    expect(c.apiKeys.map((k) => [k.name, [...k.scopes]])).toEqual([['app', ['client', 'preferences']], ['ops', ['admin']]])
    expect(c.redis?.clusterNodes).toEqual([{ host: 'r1', port: 7000 }, { host: 'r2', port: 7001 }])
  })

  it('reads Sentinel with its credentials and TLS, apart from the data nodes\' ones', () => {
    const c = loadConfig({
      REDIS_SENTINELS: 's1:26379,s2:26380',
      REDIS_SENTINEL_NAME: 'popguard',
      REDIS_PASSWORD: 'data-secret',
      REDIS_SENTINEL_PASSWORD: 'sentinel-secret',
      REDIS_TLS: 'true'
    })
    expect(c.redis).toEqual({
      sentinels: [{ host: 's1', port: 26379 }, { host: 's2', port: 26380 }],
      sentinelName: 'popguard',
      password: 'data-secret',
      sentinelPassword: 'sentinel-secret',
      tls: true,
      commandTimeoutMs: 100
    })
  })

  it('reads strict replication (WAIT) and the load-shedding limits', () => {
    expect(loadConfig({ REDIS_URL: 'redis://r:6379', POPGUARD_REDIS_WAIT_REPLICAS: '1' }).waitReplicas).toEqual({ replicas: 1, timeoutMs: 50 })
    expect(loadConfig({ REDIS_URL: 'redis://r:6379' }).waitReplicas).toBeNull()
    expect(loadConfig({ POPGUARD_SHED_MAX_IN_FLIGHT: '64', POPGUARD_SHED_MAX_HEAP_MB: '0', POPGUARD_SHED_MAX_PER_TURN: '8' }).shedding)
      .toEqual({ maxInFlight: 64, maxEventLoopDelayMs: 10, maxPerTurn: 8, maxHeapUsedBytes: 0, retryAfterSeconds: 1 })
    expect(loadConfig({}).shedding.maxPerTurn).toBe(32)
  })

  const production = { NODE_ENV: 'production', POPGUARD_API_KEYS: 'svc:client:a-long-enough-secret', POPGUARD_POLICY_FILE: 'p.json', POPGUARD_LOG_KEY: 'x'.repeat(32) }

  it('refuses production without Redis, naming the three ways to give it, unless the memory store is chosen', () => {
    expect(() => loadConfig(production)).toThrow(/^REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS: .*POPGUARD_STORE=memory/)
    expect(loadConfig({ ...production, POPGUARD_STORE: 'memory' }).redis).toBeNull()
    expect(loadConfig({ ...production, REDIS_SENTINELS: 's1:26379', REDIS_SENTINEL_NAME: 'm' }).redis?.sentinels).toHaveLength(1)
    // Outside production the memory store stays the default.
    expect(loadConfig({}).redis).toBeNull()
  })
})

describe('the policy file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'popguard-policy-'))
  const write = (name: string, text: string): string => {
    const path = join(dir, name)
    writeFileSync(path, text)
    return path
  }

  it('loads the shipped example', async () => {
    const file = await loadPolicyFile(EXAMPLE_POLICY_FILE)
    expect(file.campaigns.length).toBeGreaterThan(3)
  })

  it('loads YAML too', async () => {
    const path = write('p.yaml', [
      'policy:', '  defaultTimezone: Europe/Berlin', '  caps: [{id: daily, per: user, limit: 3, window: 1d}]', '  mode: enforce',
      '  onStoreFailure: {marketing: suppress, service: allow, critical: allow}',
      'campaigns:', '  - {id: a, name: A, class: marketing, category: promo, priority: 5, status: active, startsAt: null, endsAt: null, caps: []}'
    ].join('\n'))
    const file = await loadPolicyFile(path)
    expect(file.policy.caps[0]?.id).toBe('daily')
  })

  it.each([
    ['a wrong window', { caps: [{ id: 'd', per: 'user', limit: 3, window: '1 day' }] }, '/policy/caps/0/window'],
    ['an unknown time zone', { defaultTimezone: 'Moon/Base' }, '/policy/defaultTimezone'],
    ['an unknown field', { colour: 'red' }, '/policy/colour'],
    ['duplicate cap ids', { caps: [{ id: 'd', per: 'user', limit: 1, window: '1d' }, { id: 'd', per: 'user', limit: 2, window: '1d' }] }, '/policy/caps/1/id']
  ])('names the path of %s', async (_name, change, path) => {
    const example = JSON.parse(await import('node:fs/promises').then((fs) => fs.readFile(EXAMPLE_POLICY_FILE, 'utf8')))
    const bad = { ...example, policy: { ...example.policy, ...change } }
    await expect(loadPolicyFile(write(`bad-${path.replaceAll('/', '_')}.json`, JSON.stringify(bad)))).rejects.toThrow(path)
  })

  it('names a campaign that ends before it starts', async () => {
    const example = JSON.parse(await import('node:fs/promises').then((fs) => fs.readFile(EXAMPLE_POLICY_FILE, 'utf8')))
    example.campaigns[0].startsAt = '2026-05-01T00:00:00Z'
    example.campaigns[0].endsAt = '2026-04-01T00:00:00Z'
    await expect(loadPolicyFile(write('ends.json', JSON.stringify(example)))).rejects.toThrow('/campaigns/0/endsAt')
  })
})
