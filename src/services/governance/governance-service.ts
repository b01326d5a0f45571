import { ConflictError, NotFoundError, PreconditionFailedError, UnavailableError } from '../../errors.js'
import { ValidationError } from '../../rules/errors.js'
import { penaltyInForce } from '../../rules/policy/compile.js'
import type { Campaign, Cap, Penalty, Policy, PolicyFile } from '../../rules/policy/schema.js'
import { campaignErrors, penaltyErrors, policyErrors, type FieldError } from '../../rules/policy/validate.js'
import { changedPaths } from './diff.js'
import { campaignEtag, policyEtag, preconditionsHold, type Preconditions } from './preconditions.js'
import {
  POLICY_FIELD,
  type AuditAction, type AuditEntry, type GovernanceStore, type GovWrite, type Page, type PolicyHistoryEntry,
  type StoredCampaign, type StoredPolicy
} from '../../store/governance-store.js'

/** Who acts and why: the key's name goes into the audit trail. */
export interface Actor { by: string, reason: string | null }

export interface PenaltyRequest { action: Penalty['action'], reason: string, until?: string, caps?: Cap[] }

export interface CampaignView extends StoredCampaign {
  penalty: (Penalty & { inForce: boolean }) | null
  /** `suspended` while a suspension is in force, else the campaign's own status. */
  effectiveStatus: Campaign['status']
  /** The ETag of the campaign with its penalty: what `If-Match` compares. */
  etag: string
}

export interface CampaignFilter { status?: Campaign['status'], category?: string, offset: number, limit: number }

/** Compare-and-set attempts before a write gives up under contention, with a short random pause between. */
const ATTEMPTS = 8
const MAX_PAUSE_MS = 25

function invalid (what: string, errors: FieldError[]): ValidationError {
  return new ValidationError(`invalid ${what}: ${errors[0]?.path ?? '/'}: ${errors[0]?.message ?? 'is invalid'}`, errors)
}

function parseOr<T> (raw: string | null): T | null {
  return raw === null ? null : JSON.parse(raw) as T
}

/** Refuses (412) a write whose preconditions do not hold for what it read; no preconditions: an internal write. */
function checkPreconditions (pre: Preconditions | undefined, current: string | null, what: string): void {
  if (pre === undefined || preconditionsHold(pre, current)) return
  throw new PreconditionFailedError(current === null
    ? `${what} does not exist, but If-Match requires it`
    : `${what} is at ETag ${current}, which the request's precondition refuses: read it again`)
}

/**
 * The admin operations on policy, campaigns and penalties. Each validates first (an invalid
 * change touches nothing), then commits with a compare-and-set on what it read, with its audit
 * entry, and reloads this instance before answering so the writer reads its own write.
 */
export class GovernanceService {
  constructor (
    private readonly store: GovernanceStore,
    private readonly reload: () => Promise<void>,
    private readonly clock: () => number = Date.now
  ) {}

  /** Seeds the store from the policy file when it holds no policy yet, or always when `overwrite`. */
  async seed (file: PolicyFile, overwrite: boolean): Promise<'seeded' | 'kept'> {
    const raw = await this.store.read('policy', POLICY_FIELD)
    if (raw !== null && !overwrite) return 'kept'
    const old = parseOr<StoredPolicy>(raw)
    const actor = { by: 'boot', reason: overwrite ? 'POPGUARD_POLICY_OVERWRITE=true' : 'seeded from the policy file' }
    const next = this.storedPolicy(file.policy, (old?.version ?? 0) + 1, actor)
    const ok = await this.store.commit({
      writes: [
        { table: 'policy', id: POLICY_FIELD, expect: raw ?? '', value: JSON.stringify(next) },
        ...file.campaigns.map((c): GovWrite => ({ table: 'campaigns', id: c.id, value: JSON.stringify(this.storedCampaign(c, actor)) }))
      ],
      audit: [this.entry('policy.seed', 'policy', actor, old === null ? null : { version: old.version },
        { version: next.version, campaigns: file.campaigns.length }, changedPaths(old?.document, file.policy))],
      history: this.historyEntry(next, actor, old)
    })
    return ok ? 'seeded' : 'kept'
  }

  async policy (): Promise<StoredPolicy> {
    const stored = parseOr<StoredPolicy>(await this.store.read('policy', POLICY_FIELD))
    if (stored === null) throw new UnavailableError('no policy stored: the store was not reachable at boot, or lost its configuration (instances restore it at their next check)')
    return stored
  }

  async putPolicy (document: Policy, actor: Actor, pre?: Preconditions): Promise<StoredPolicy> {
    const errors = policyErrors(document)
    if (errors.length > 0) throw invalid('policy', errors)
    return await this.retry(async () => {
      const raw = await this.store.read('policy', POLICY_FIELD)
      const old = parseOr<StoredPolicy>(raw)
      checkPreconditions(pre, old === null ? null : policyEtag(old.version), 'the policy')
      const next = this.storedPolicy(document, (old?.version ?? 0) + 1, actor)
      const ok = await this.store.commit({
        writes: [{ table: 'policy', id: POLICY_FIELD, expect: raw ?? '', value: JSON.stringify(next) }],
        audit: [this.entry('policy.update', 'policy', actor, old === null ? null : { version: old.version }, { version: next.version },
          changedPaths(old?.document, document))],
        history: this.historyEntry(next, actor, old)
      })
      return ok ? next : null
    })
  }

  history (offset: number, limit: number): Promise<Page<PolicyHistoryEntry>> {
    return this.store.history(offset, limit)
  }

  audit (offset: number, limit: number): Promise<Page<AuditEntry>> {
    return this.store.audit(offset, limit)
  }

  async campaigns (filter: CampaignFilter): Promise<Page<CampaignView>> {
    const snapshot = await this.store.snapshot()
    const all = [...snapshot.campaigns]
      .map(([id, raw]) => this.view(raw, snapshot.penalties.get(id) ?? null))
      .filter((v) => (filter.status === undefined || v.effectiveStatus === filter.status) &&
        (filter.category === undefined || v.campaign.category === filter.category))
      .sort((a, b) => a.campaign.id.localeCompare(b.campaign.id))
    const items = all.slice(filter.offset, filter.offset + filter.limit)
    return { items, nextOffset: filter.offset + items.length < all.length ? filter.offset + items.length : null }
  }

  async campaign (id: string): Promise<CampaignView> {
    const [raw, penalty] = await Promise.all([this.store.read('campaigns', id), this.store.read('penalties', id)])
    if (raw === null) throw new NotFoundError(`no campaign ${id}`)
    return this.view(raw, penalty)
  }

  async putCampaign (id: string, campaign: Campaign, actor: Actor, pre?: Preconditions): Promise<{ created: boolean, view: CampaignView }> {
    const errors = campaignErrors(campaign)
    if (campaign.id !== id) errors.push({ path: '/id', message: `must equal the id in the path (${id})` })
    if (errors.length > 0) throw invalid('campaign', errors)
    const created = await this.retry(async () => {
      const [raw, penalty] = await Promise.all([this.store.read('campaigns', id), this.store.read('penalties', id)])
      checkPreconditions(pre, raw === null ? null : campaignEtag(raw, penalty), `campaign ${id}`)
      const old = parseOr<StoredCampaign>(raw)
      const ok = await this.store.commit({
        writes: [
          { table: 'campaigns', id, expect: raw ?? '', value: JSON.stringify(this.storedCampaign(campaign, actor)) },
          // Kept as it is, but expected: the ETag the precondition compared covers the penalty too.
          { table: 'penalties', id, expect: penalty ?? '', value: penalty ?? '' }
        ],
        audit: [this.entry(old === null ? 'campaign.create' : 'campaign.update', `campaign:${id}`, actor, old?.campaign ?? null, campaign,
          changedPaths(old?.campaign, campaign))]
      })
      return ok ? old === null : null
    })
    return { created, view: await this.campaign(id) }
  }

  async deleteCampaign (id: string, actor: Actor, pre?: Preconditions): Promise<void> {
    await this.retry(async () => {
      const [raw, penalty] = await Promise.all([this.store.read('campaigns', id), this.store.read('penalties', id)])
      if (raw === null) throw new NotFoundError(`no campaign ${id}`)
      checkPreconditions(pre, campaignEtag(raw, penalty), `campaign ${id}`)
      const old = JSON.parse(raw) as StoredCampaign
      // Its penalty goes with it, so a campaign re-created under the same id starts clean.
      return await this.store.commit({
        writes: [{ table: 'campaigns', id, expect: raw, value: '' }, { table: 'penalties', id, expect: penalty ?? '', value: '' }],
        audit: [this.entry('campaign.delete', `campaign:${id}`, actor, { ...old.campaign, penalty: parseOr(penalty) }, null,
          changedPaths(old.campaign, undefined))]
      }) || null
    })
  }

  /** Without preconditions for the automatic health penalty, an internal write. */
  async applyPenalty (id: string, request: PenaltyRequest, by: string, pre?: Preconditions): Promise<CampaignView> {
    const at = new Date(this.clock()).toISOString()
    const penalty: Penalty = { action: request.action, reason: request.reason, until: request.until ?? null, caps: request.caps ?? [], at, by }
    const errors = penaltyErrors(penalty)
    if (penalty.until !== null && Date.parse(penalty.until) <= this.clock()) errors.push({ path: '/until', message: 'must be in the future' })
    if (errors.length > 0) throw invalid('penalty', errors)
    await this.retry(async () => {
      const [raw, oldRaw] = await Promise.all([this.store.read('campaigns', id), this.store.read('penalties', id)])
      if (raw === null) throw new NotFoundError(`no campaign ${id}`)
      checkPreconditions(pre, campaignEtag(raw, oldRaw), `campaign ${id}`)
      if (penalty.action === 'limit' && (JSON.parse(raw) as StoredCampaign).campaign.class !== 'marketing') {
        throw invalid('penalty', [{ path: '/action', message: 'caps apply to marketing campaigns only: suspend it instead' }])
      }
      const old = parseOr<Penalty>(oldRaw)
      return await this.store.commit({
        writes: [{ table: 'campaigns', id, expect: raw, value: raw }, { table: 'penalties', id, expect: oldRaw ?? '', value: JSON.stringify(penalty) }],
        audit: [this.entry('penalty.apply', `campaign:${id}`, { by, reason: request.reason }, old, penalty, changedPaths(old, penalty))]
      }) || null
    })
    return await this.campaign(id)
  }

  async liftPenalty (id: string, actor: Actor, pre?: Preconditions): Promise<CampaignView> {
    await this.retry(async () => {
      const [campaignRaw, raw] = await Promise.all([this.store.read('campaigns', id), this.store.read('penalties', id)])
      if (campaignRaw === null) throw new NotFoundError(`no campaign ${id}`)
      if (raw === null) throw new NotFoundError(`campaign ${id} has no penalty`)
      checkPreconditions(pre, campaignEtag(campaignRaw, raw), `campaign ${id}`)
      const old = JSON.parse(raw) as Penalty
      return await this.store.commit({
        writes: [{ table: 'campaigns', id, expect: campaignRaw, value: campaignRaw }, { table: 'penalties', id, expect: raw, value: '' }],
        audit: [this.entry('penalty.lift', `campaign:${id}`, actor, old, null, changedPaths(old, undefined))]
      }) || null
    })
    return await this.campaign(id)
  }

  /** Runs a read-then-compare-and-set until it commits (a non-null result), then reloads this instance. */
  private async retry<T> (attempt: () => Promise<T | null>): Promise<T> {
    for (let i = 0; i < ATTEMPTS; i++) {
      const result = await attempt()
      if (result !== null) {
        await this.reload()
        return result
      }
      await new Promise((resolve) => setTimeout(resolve, Math.random() * MAX_PAUSE_MS))
    }
    throw new ConflictError('too many concurrent changes to the same record: try again')
  }

  private view (raw: string, penaltyRaw: string | null): CampaignView {
    const stored = JSON.parse(raw) as StoredCampaign
    const penalty = parseOr<Penalty>(penaltyRaw)
    const inForce = penalty !== null && penaltyInForce(penalty.until === null ? null : Date.parse(penalty.until), this.clock())
    const suspended = inForce && penalty.action === 'suspend'
    return {
      ...stored,
      penalty: penalty === null ? null : { ...penalty, inForce },
      effectiveStatus: suspended ? 'suspended' : stored.campaign.status,
      etag: campaignEtag(raw, penaltyRaw)
    }
  }

  private now (): string {
    return new Date(this.clock()).toISOString()
  }

  private storedPolicy (document: Policy, version: number, actor: Actor): StoredPolicy {
    return { version, document, updatedAt: this.now(), updatedBy: actor.by }
  }

  private storedCampaign (campaign: Campaign, actor: Actor): StoredCampaign {
    return { campaign, updatedAt: this.now(), updatedBy: actor.by }
  }

  private historyEntry (next: StoredPolicy, actor: Actor, old: StoredPolicy | null): PolicyHistoryEntry {
    return { version: next.version, at: next.updatedAt, by: actor.by, reason: actor.reason, changes: changedPaths(old?.document, next.document), document: next.document }
  }

  private entry (action: AuditAction, target: string, actor: Actor, before: unknown, after: unknown, changes: string[]): AuditEntry {
    return { at: this.now(), by: actor.by, action, target, reason: actor.reason, before, after, changes }
  }
}
