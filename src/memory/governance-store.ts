import {
  AUDIT_CAP, HISTORY_CAP, POLICY_FIELD,
  type AuditEntry, type GovCommit, type GovernanceStore, type GovSnapshot, type GovTable, type Page, type PolicyHistoryEntry
} from '../store/governance-store.js'

function page<T> (list: readonly T[], offset: number, limit: number): Page<T> {
  const items = list.slice(offset, offset + limit)
  return { items, nextOffset: offset + items.length < list.length ? offset + items.length : null }
}

/** One process only: the same API as Redis, for development without REDIS_URL. */
export class MemoryGovernanceStore implements GovernanceStore {
  readonly kind = 'memory' as const
  private rev = 0
  private readonly tables: Record<GovTable, Map<string, string>> = { policy: new Map(), campaigns: new Map(), penalties: new Map() }
  private auditTrail: AuditEntry[] = []
  private policyHistory: PolicyHistoryEntry[] = []
  private readonly listeners: ((revision: number) => void)[] = []

  async read (table: GovTable, id: string): Promise<string | null> {
    return this.tables[table].get(id) ?? null
  }

  async commit (change: GovCommit): Promise<boolean> {
    if (change.expectRevision !== undefined && this.rev !== change.expectRevision) return false
    for (const w of change.writes) {
      if (w.expect !== undefined && (this.tables[w.table].get(w.id) ?? '') !== w.expect) return false
    }
    if (change.replace === true) for (const table of Object.values(this.tables)) table.clear()
    for (const w of change.writes) {
      if (w.value === '') this.tables[w.table].delete(w.id)
      else this.tables[w.table].set(w.id, w.value)
    }
    this.auditTrail = [...[...change.audit].reverse(), ...this.auditTrail].slice(0, AUDIT_CAP)
    if (change.history !== undefined) this.policyHistory = [change.history, ...this.policyHistory].slice(0, HISTORY_CAP)
    this.rev = Math.max(this.rev, change.revisionAtLeast ?? 0)
    const revision = ++this.rev
    for (const listener of this.listeners) listener(revision)
    return true
  }

  async snapshot (): Promise<GovSnapshot> {
    return {
      revision: this.rev,
      policy: this.tables.policy.get(POLICY_FIELD) ?? null,
      campaigns: new Map(this.tables.campaigns),
      penalties: new Map(this.tables.penalties)
    }
  }

  async revision (): Promise<number> {
    return this.rev
  }

  async audit (offset: number, limit: number): Promise<Page<AuditEntry>> {
    return page(this.auditTrail, offset, limit)
  }

  async history (offset: number, limit: number): Promise<Page<PolicyHistoryEntry>> {
    return page(this.policyHistory, offset, limit)
  }

  async onChange (listener: (revision: number) => void): Promise<void> {
    this.listeners.push(listener)
  }

  async close (): Promise<void> {
    this.listeners.length = 0
  }
}
