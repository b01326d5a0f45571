import type { FastifyInstance } from 'fastify'
import { inject } from 'vitest'
import { buildApp } from '../../src/app.js'
import type { PolicyFile } from '../../src/rules/policy/schema.js'
import { MemoryReportStore } from '../../src/memory/report-store.js'
import { RedisReportStore } from '../../src/redis/reports/redis-report-store.js'
import type { ReportStore } from '../../src/store/report-store.js'
import { MemoryStore } from '../../src/memory/user-store.js'
import { createRedisClient } from '../../src/redis/connection.js'
import { MemoryGovernanceStore } from '../../src/memory/governance-store.js'
import { AUTH, redisGovernance, redisStore, testConfig, type StoreKind, type TestClock } from './app.js'

export const REPORTS_AUTH = { authorization: 'Bearer dev-reports-key' }

export function reportStore (kind: StoreKind, prefix: string, retentionDays = 400): ReportStore {
  if (kind === 'memory') return new MemoryReportStore()
  return new RedisReportStore(createRedisClient({ url: inject('redisUrl'), commandTimeoutMs: 2000 }, 'report'), { keyPrefix: prefix, retentionDays })
}

export interface ReportApp {
  app: FastifyInstance
  decide (body: Record<string, unknown>): Promise<any>
  /** Posts client events; resolves to the number accepted. */
  events (events: Record<string, unknown>[]): Promise<number>
  get (url: string, headers?: Record<string, string>): Promise<{ status: number, body: any, text: string, type: string }>
}

/** An app whose report counts go where the test says; flushes only when asked (or on close). */
export async function reportApp (kind: StoreKind, file: PolicyFile, prefix: string, clock?: TestClock): Promise<ReportApp> {
  const app = await buildApp(testConfig({ reports: { flushEveryMs: 3_600_000, retentionDays: 400, maxPendingUsers: 50_000 } }), {
    policy: file,
    store: kind === 'memory' ? new MemoryStore(clock?.now) : redisStore(prefix),
    reportStore: reportStore(kind, prefix),
    governance: kind === 'memory' ? new MemoryGovernanceStore() : redisGovernance(prefix),
    clock: clock?.now
  })
  return {
    app,
    async decide (body) {
      const res = await app.inject({ method: 'POST', url: '/v1/decide', headers: AUTH, payload: body })
      if (res.statusCode !== 200) throw new Error(`decide answered ${res.statusCode}: ${res.body}`)
      return res.json()
    },
    async events (events) {
      const res = await app.inject({ method: 'POST', url: '/v1/events', headers: AUTH, payload: { events } })
      if (res.statusCode !== 202) throw new Error(`events answered ${res.statusCode}: ${res.body}`)
      return res.json().accepted
    },
    async get (url, headers = REPORTS_AUTH) {
      const res = await app.inject({ method: 'GET', url, headers })
      const type = String(res.headers['content-type'] ?? '')
      return { status: res.statusCode, body: type.includes('json') ? res.json() : null, text: res.body, type }
    }
  }
}
