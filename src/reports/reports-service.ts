import type { CompiledPolicy } from '../policy/compile.js'
import { UnavailableError } from '../errors.js'
import { campaignReport, type CampaignInfo, type CampaignRow } from './campaigns.js'
import type { ReportCounter, ReportEvent } from './counter.js'
import { dailyReport, type DailyReport } from './daily.js'
import type { ReportFlusher } from './flusher.js'
import { reportDays } from './range.js'
import type { ReportStore, StoredDay } from './report-store.js'

/** The campaigns of the registry as the campaign report shows them. */
export function registryOf (policy: CompiledPolicy): CampaignInfo[] {
  return [...policy.campaigns.values()].map((c) => ({ id: c.id, class: c.class, category: c.category, status: c.status, penalty: null }))
}

/** Counting (counter + flusher) and reading (the two reports) of one instance. */
export class ReportsService {
  constructor (
    readonly counter: ReportCounter,
    readonly flusher: ReportFlusher,
    private readonly store: ReportStore,
    private readonly policy: () => CompiledPolicy,
    private readonly userCountError: number
  ) {}

  /** One accepted client event (wired to the events observer). */
  recordEvent (e: ReportEvent): void {
    this.counter.recordEvent(e)
  }

  async daily (from: string, to: string): Promise<DailyReport> {
    const stored = await this.read(reportDays(from, to))
    return dailyReport(stored, { from, to, timezone: this.policy().defaultTimezone }, this.userCountError)
  }

  async campaigns (q: { from: string, to: string, category?: string, status?: string }): Promise<CampaignRow[]> {
    const stored = await this.read(reportDays(q.from, q.to))
    return campaignReport(stored, registryOf(this.policy()), q)
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
