import type { CountBatch } from '../rules/reports/batch.js'
import type { ReportStore, StoredDay } from '../store/report-store.js'

/** Report counts in memory, for the in-memory store's single instance; users are counted exactly. */
export class MemoryReportStore implements ReportStore {
  readonly userCountError = 0
  private readonly hashes = new Map<string, Map<string, number>>()
  private readonly users = new Map<string, Set<string>>()
  private readonly applied = new Set<string>()

  async apply (batch: CountBatch, flushId: string): Promise<void> {
    if (this.applied.has(flushId)) return
    this.applied.add(flushId)
    // Retries come within seconds: the oldest ids can go.
    if (this.applied.size > 10_000) this.applied.delete(this.applied.values().next().value as string)
    for (const [key, fields] of batch.hashes) {
      const into = this.hashes.get(key) ?? new Map<string, number>()
      for (const [field, n] of fields) into.set(field, (into.get(field) ?? 0) + n)
      this.hashes.set(key, into)
    }
    for (const [key, members] of batch.users) {
      const into = this.users.get(key) ?? new Set<string>()
      for (const m of members) into.add(m)
      this.users.set(key, into)
    }
  }

  async read (days: string[]): Promise<StoredDay[]> {
    const hash = (key: string): Record<string, number> => Object.fromEntries(this.hashes.get(key) ?? [])
    return days.map((day) => ({
      day,
      candidates: hash('c:' + day),
      decisions: hash('d:' + day),
      events: hash('e:' + day),
      users: { treated: this.users.get(`u:${day}:treated`)?.size ?? 0, holdout: this.users.get(`u:${day}:holdout`)?.size ?? 0 }
    }))
  }

  async close (): Promise<void> {}
}
