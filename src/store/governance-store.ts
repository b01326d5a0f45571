import type { Campaign, Policy } from '../rules/policy/schema.js'

/** The policy document as stored: its own version counter, who wrote it and when. */
export interface StoredPolicy { version: number, document: Policy, updatedAt: string, updatedBy: string }
export interface StoredCampaign { campaign: Campaign, updatedAt: string, updatedBy: string }

export type AuditAction = 'policy.seed' | 'policy.update' | 'campaign.create' | 'campaign.update' | 'campaign.delete' |
  'penalty.apply' | 'penalty.lift' | 'governance.restore'

export interface AuditEntry {
  at: string
  /** The API key's name ('boot' for seeding from the policy file, 'restore' for a restore). */
  by: string
  action: AuditAction
  /** `policy`, `campaign:<id>`, or `governance` (a restore of the whole configuration). */
  target: string
  reason: string | null
  before: unknown
  after: unknown
  /** JSON pointers of what changed (at most 50). */
  changes: string[]
}

export interface PolicyHistoryEntry { version: number, at: string, by: string, reason: string | null, changes: string[], document: Policy }

/** The three records the governance store keeps; a commit names one of them. */
export type GovTable = 'policy' | 'campaigns' | 'penalties'

/** The field of the `policy` table that holds the current document. */
export const POLICY_FIELD = 'current'

/**
 * One write of a commit. With `expect` set, the commit happens only if the record's stored
 * raw JSON is still exactly `expect` ('' for absent): a compare-and-set.
 */
export interface GovWrite {
  table: GovTable
  id: string
  expect?: string
  /** The new raw JSON, or '' to delete the record. */
  value: string
}

export interface GovCommit {
  writes: GovWrite[]
  audit: AuditEntry[]
  history?: PolicyHistoryEntry
  /** Commit only if the revision is still this one: a compare-and-set on the whole configuration. */
  expectRevision?: number
  /** Empty policy, campaigns and penalties first, so the writes become the whole configuration (a restore). */
  replace?: boolean
  /** Raise the revision to at least this before the bump, so it never falls below one an instance loaded. */
  revisionAtLeast?: number
}

/** Every record as stored (raw JSON, validated by the reader) and the revision they belong to. */
export interface GovSnapshot {
  revision: number
  policy: string | null
  campaigns: Map<string, string>
  penalties: Map<string, string>
}

export interface Page<T> { items: T[], nextOffset: number | null }

/**
 * Policy, campaigns, penalties, audit trail and policy history: the run-time configuration,
 * kept apart from the per-user Store. Redis when configured (shared by every instance),
 * memory for a single development instance.
 */
export interface GovernanceStore {
  readonly kind: 'memory' | 'redis'
  /** The raw JSON of one record, or null. */
  read (table: GovTable, id: string): Promise<string | null>
  /** Applies every write, the audit and history entries, and bumps the revision, atomically; false when an expectation failed. */
  commit (change: GovCommit): Promise<boolean>
  snapshot (): Promise<GovSnapshot>
  /** The revision alone: the cheap periodic check. */
  revision (): Promise<number>
  audit (offset: number, limit: number): Promise<Page<AuditEntry>>
  history (offset: number, limit: number): Promise<Page<PolicyHistoryEntry>>
  /** Calls back with the new revision after any change, from any instance. */
  onChange (listener: (revision: number) => void): Promise<void>
  close (): Promise<void>
}

export const AUDIT_CAP = 10_000
export const HISTORY_CAP = 1_000
