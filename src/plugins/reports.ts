import fp from 'fastify-plugin'
import { HEALTH_ACTOR } from '../rules/reports/health.js'
import type { PenaltyRequest } from '../services/governance/governance-service.js'
import { ReportCounter } from '../services/reports/counter.js'
import { ReportFlusher } from '../services/reports/flusher.js'
import { ReportsService } from '../services/reports/reports-service.js'
import { changeName } from '../rules/users/preference-center.js'

declare module 'fastify' {
  interface FastifyInstance {
    reports: ReportsService
  }
}

/** Counts every decision, accepted event and preference change in memory, flushes on a timer and on close, and reads the reports. */
export const reportsPlugin = fp(async (app) => {
  const { clock, config } = app
  const store = app.reportStore
  const counter = new ReportCounter({
    clock,
    timeZone: () => app.policy.current.defaultTimezone,
    classOf: (id) => app.policy.current.campaigns.get(id)?.class ?? 'unknown',
    maxPendingUsers: config.reports.maxPendingUsers,
    onUsersDropped: app.metrics.reportUsersDropped
  })
  const flusher = new ReportFlusher(counter, store, {
    everyMs: config.reports.flushEveryMs,
    logger: app.log,
    afterFlush: async () => {
      for (const f of await reports.checkHealth()) app.log.warn({ campaignId: f.campaignId, reason: f.reason }, 'campaign health: automatic penalty applied')
    }
  })
  const penalize = async (id: string, penalty: PenaltyRequest): Promise<unknown> => await app.governance.applyPenalty(id, penalty, HEALTH_ACTOR)
  const reports = new ReportsService(counter, flusher, store, () => app.policy.current, clock, penalize)
  app.decorate('reports', reports)
  app.decisions.onDecision(counter.observeDecision)
  app.events.onEvent((e) => {
    if (e.outcome === 'accepted') reports.recordEvent({ type: e.type, campaignId: e.campaignId, cohort: e.cohort, receivedAt: e.receivedAt, dayShows: e.dayShows })
  })
  app.users.onChange((r) => { reports.recordPreferenceChange(changeName(r.change), r.source.via, r.at) })
  flusher.start()
  // Before the stores close (onClose runs last registered first): the last counts reach the store.
  app.addHook('onClose', async () => { await flusher.stop() })
}, {
  name: 'popguard-reports',
  dependencies: ['popguard-context', 'popguard-metrics', 'popguard-stores', 'popguard-governance', 'popguard-decisions', 'popguard-events', 'popguard-users']
})
