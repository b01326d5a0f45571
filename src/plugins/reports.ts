import type { FastifyInstance } from 'fastify'
import type { AppConfig } from '../config/config.js'
import { createRedisClient } from '../redis/connection.js'
import { ReportCounter } from '../services/reports/counter.js'
import { ReportFlusher } from '../services/reports/flusher.js'
import type { PenaltyRequest } from '../services/governance/governance-service.js'
import { HEALTH_ACTOR } from '../rules/reports/health.js'
import { MemoryReportStore } from '../memory/report-store.js'
import { RedisReportStore } from '../redis/reports/redis-report-store.js'
import type { ReportStore } from '../store/report-store.js'
import { ReportsService } from '../services/reports/reports-service.js'

declare module 'fastify' {
  interface FastifyInstance {
    reports: ReportsService
  }
}

/** Report reads and flushes may take longer than a decision: they never sit on the decision path. */
const REPORT_COMMAND_TIMEOUT_MS = 2000

export function createReportStore (config: AppConfig): ReportStore {
  if (config.redis === null) return new MemoryReportStore()
  const client = createRedisClient({ ...config.redis, commandTimeoutMs: REPORT_COMMAND_TIMEOUT_MS })
  client.on('error', () => {}) // the decision store already reports connection trouble
  return new RedisReportStore(client, { keyPrefix: config.keyPrefix, retentionDays: config.reports.retentionDays })
}

export interface ReportsOptions {
  store: ReportStore
  flushEveryMs: number
  /** Distinct pseudonyms per day and cohort held until a flush (see CounterOptions). */
  maxPendingUsers: number
  onUsersDropped?: (n: number) => void
  clock: () => number
}

/** Counts every decision in memory, flushes on a timer and on close, and decorates `app.reports`. */
export function useReports (app: FastifyInstance, opts: ReportsOptions): void {
  const counter = new ReportCounter({
    clock: opts.clock,
    timeZone: () => app.policy.current.defaultTimezone,
    classOf: (id) => app.policy.current.campaigns.get(id)?.class ?? 'unknown',
    maxPendingUsers: opts.maxPendingUsers,
    ...(opts.onUsersDropped === undefined ? {} : { onUsersDropped: opts.onUsersDropped })
  })
  const flusher = new ReportFlusher(counter, opts.store, {
    everyMs: opts.flushEveryMs,
    logger: app.log,
    afterFlush: async () => {
      for (const f of await reports.checkHealth()) app.log.warn({ campaignId: f.campaignId, reason: f.reason }, 'campaign health: automatic penalty applied')
    }
  })
  const penalize = async (id: string, penalty: PenaltyRequest): Promise<unknown> => await app.governance.applyPenalty(id, penalty, HEALTH_ACTOR)
  const reports = new ReportsService(counter, flusher, opts.store, () => app.policy.current, opts.clock, penalize)
  app.decorate('reports', reports)
  app.decisions.onDecision(counter.observeDecision)
  app.events.onEvent((e) => {
    if (e.outcome === 'accepted') reports.recordEvent({ type: e.type, campaignId: e.campaignId, cohort: e.cohort })
  })
  flusher.start()
  app.addHook('onClose', async () => {
    await flusher.stop()
    await opts.store.close()
  })
}
