import { penaltyInForce, type CompiledCampaign, type CompiledPolicy } from '../../rules/policy/compile.js'
import { durationMs } from '../../rules/policy/duration.js'
import { DAY_MS } from '../../rules/time.js'
import { UnavailableError } from '../../errors.js'
import { campaignReport, type CampaignInfo, type CampaignRow } from '../../rules/reports/campaigns.js'
import type { ReportCounter, ReportEvent } from './counter.js'
import { dailyReport, type DailyReport } from '../../rules/reports/daily.js'
import type { ReportFlusher } from './flusher.js'
import { reportDays } from '../../rules/reports/range.js'
import type { ReportStore, StoredDay } from '../../store/report-store.js'
import { daysBetween, reportDay } from '../../rules/reports/day.js'
import { DEFAULT_HEALTH_CAPS, unhealthyCampaigns, type HealthFinding } from '../../rules/reports/health.js'
import type { PenaltyRequest } from '../governance/governance-service.js'

function penaltyOf (c: CompiledCampaign, now: number): CampaignInfo['penalty'] {
  const p = c.penalty
  if (p === null || !penaltyInForce(p.untilMs, now)) return null
  return { action: p.action, reason: p.reason, until: p.untilMs === null ? null : new Date(p.untilMs).toISOString(), by: p.by }
}

/** The campaigns of the registry as the campaign report shows them, with the penalty in force now. */
export function registryOf (policy: CompiledPolicy, now: number): CampaignInfo[] {
  return [...policy.campaigns.values()].map((c) => ({ id: c.id, name: c.name, class: c.class, category: c.category, status: c.status, penalty: penaltyOf(c, now) }))
}

/** Counting (counter + flusher) and reading (the two reports) of one instance. */
export class ReportsService {
  constructor (
    private readonly counter: ReportCounter,
    readonly flusher: ReportFlusher,
    private readonly store: ReportStore,
    private readonly policy: () => CompiledPolicy,
    private readonly clock: () => number,
    private readonly penalize?: (campaignId: string, penalty: PenaltyRequest) => Promise<unknown>
  ) {}

  /** User pseudonyms held in memory until a flush reaches the store (bounded: see CounterOptions). */
  pendingUsers (): number {
    return this.counter.pendingUsers() + this.flusher.pendingUsers()
  }

  /** One accepted client event (wired to the events observer). */
  recordEvent (e: ReportEvent): void {
    this.counter.recordEvent(e)
  }

  /** One stored preference change (`marketing_off`, `category_off`, `snooze`, ...) and where it came from. */
  recordPreferenceChange (change: string, via: string, at: number): void {
    this.counter.recordPreferenceChange(change, via, at)
  }

  async daily (from: string, to: string): Promise<DailyReport> {
    const stored = await this.read(reportDays(from, to))
    return dailyReport(stored, { from, to, timezone: this.policy().defaultTimezone }, this.store.userCountError)
  }

  async campaigns (q: { from: string, to: string, category?: string, status?: string }): Promise<CampaignRow[]> {
    const stored = await this.read(reportDays(q.from, q.to))
    return campaignReport(stored, registryOf(this.policy(), this.clock()), q)
  }

  /**
   * Applies the policy's health rule to the stored counts of its window (called after each
   * flush): each finding becomes a penalty through governance, audited as `system:health`.
   */
  async checkHealth (): Promise<HealthFinding[]> {
    const policy = this.policy()
    const rule = policy.document.health
    if (rule === undefined || this.penalize === undefined) return []
    const now = this.clock()
    const today = reportDay(now, policy.defaultTimezone)
    const windowDays = durationMs(rule.window) / DAY_MS
    const from = new Date(Date.parse(today + 'T00:00:00Z') - (windowDays - 1) * DAY_MS).toISOString().slice(0, 10)
    const registry = registryOf(policy, now)
    const rows = campaignReport(await this.store.read(daysBetween(from, today)), registry, {})
    const findings = unhealthyCampaigns(rows, registry, rule)
    for (const f of findings) {
      await this.penalize(f.campaignId, {
        action: rule.action,
        reason: f.reason,
        ...(rule.duration === undefined ? {} : { until: new Date(now + durationMs(rule.duration)).toISOString() }),
        ...(rule.action === 'limit' ? { caps: rule.caps ?? DEFAULT_HEALTH_CAPS } : {})
      })
    }
    return findings
  }

  /** This instance's counts are flushed first, so a reader sees at least what it counted itself. */
  private async read (days: string[]): Promise<StoredDay[]> {
    await this.flusher.flush()
    try {
      return await this.store.read(days)
    } catch (err) {
      throw new UnavailableError(`the report store did not answer: ${(err as Error).message}`)
    }
  }
}
