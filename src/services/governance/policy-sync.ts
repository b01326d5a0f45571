import type { FastifyBaseLogger } from 'fastify'
import type { PolicyState } from './policy-state.js'
import type { Penalty } from '../../rules/policy/schema.js'
import { campaignErrors, penaltyErrors, policyErrors, type FieldError } from '../../rules/policy/validate.js'
import type { GovernanceStore, GovSnapshot, StoredCampaign, StoredPolicy } from '../../store/governance-store.js'
import type { Kept, LoadedConfig, Restorer } from './restore.js'

/** How often an instance asks for the revision, in case a pub/sub message was missed. */
export const DEFAULT_CHECK_EVERY_MS = 2000
/** Restore attempts within one load when the store keeps changing under them; the next check tries again. */
const RESTORES_PER_LOAD = 3

type Parsed<T> = { ok: true, value: T } | { ok: false, problems: string[] }

function parse<T> (raw: string, check: (value: T) => FieldError[]): Parsed<T> {
  let value: T
  try {
    value = JSON.parse(raw) as T
  } catch (err) {
    return { ok: false, problems: [`not JSON: ${(err as Error).message}`] }
  }
  const errors = check(value)
  return errors.length === 0 ? { ok: true, value } : { ok: false, problems: errors.map((e) => `${e.path}: ${e.message}`) }
}

const checkPolicy = (p: StoredPolicy): FieldError[] =>
  typeof p !== 'object' || p === null || !Number.isInteger(p.version) ? [{ path: '/version', message: 'missing' }] : policyErrors(p.document, '/document')
const checkCampaign = (id: string) => (c: StoredCampaign): FieldError[] => {
  if (typeof c !== 'object' || c === null) return [{ path: '/', message: 'not an object' }]
  const errors = campaignErrors(c.campaign, '/campaign')
  return errors.length > 0 || c.campaign.id === id ? errors : [{ path: '/campaign/id', message: `differs from its key ${id}` }]
}

/**
 * Keeps this instance's PolicyState in step with the governance store: reloads on every
 * change message and on a periodic revision check, and keeps the last good value of any
 * stored record that turns out invalid. When the store has lost its configuration (the
 * policy missing, or the revision or policy version lower than loaded: Redis restarted
 * empty or from an older copy), it keeps serving what it loaded and writes that back.
 */
export class PolicySync {
  private loaded: LoadedConfig | null = null
  private loading: Promise<void> | null = null
  private again = false
  private timer: NodeJS.Timeout | null = null
  private lastCheckFailure = 0

  constructor (
    private readonly store: GovernanceStore,
    private readonly state: PolicyState,
    private readonly log: FastifyBaseLogger,
    private readonly restore: Restorer
  ) {}

  /** Whether a configuration was ever loaded from the store (until then the boot policy serves). */
  get hasLoaded (): boolean {
    return this.loaded !== null
  }

  /** Listens for changes and checks the revision every `checkEveryMs`; `beforeCheck` runs first (boot seeding retried). */
  async watch (checkEveryMs: number, beforeCheck: () => Promise<void>): Promise<void> {
    try {
      await this.store.onChange((revision) => {
        if (revision !== this.state.revision) this.refresh().catch(() => {})
      })
    } catch (err) {
      this.log.warn({ err: { message: (err as Error).message } }, 'governance: cannot subscribe to changes yet; the periodic check stands in')
    }
    this.timer = setInterval(() => { this.check(beforeCheck).catch(() => {}) }, checkEveryMs)
    this.timer.unref()
  }

  stop (): void {
    if (this.timer !== null) clearInterval(this.timer)
  }

  /** Reloads from the store; concurrent calls share one load and a call during a load causes one more. */
  async refresh (): Promise<void> {
    if (this.loading !== null) {
      this.again = true
      return await this.loading
    }
    this.loading = (async () => {
      try {
        let restores = 0
        do {
          this.again = false
          const snapshot = await this.store.snapshot()
          const drift = this.driftOf(snapshot)
          if (drift === null) {
            this.apply(snapshot)
          } else if (restores++ < RESTORES_PER_LOAD) {
            await this.restoreOver(snapshot, drift)
            this.again = true
          }
        } while (this.again)
      } finally {
        this.loading = null
      }
    })()
    return await this.loading
  }

  private async check (beforeCheck: () => Promise<void>): Promise<void> {
    try {
      await beforeCheck()
      if (this.state.storeStatus === 'restoring' || await this.store.revision() !== this.state.revision) await this.refresh()
    } catch (err) {
      if (Date.now() - this.lastCheckFailure < 30_000) return
      this.lastCheckFailure = Date.now()
      this.log.warn({ err: { message: (err as Error).message }, storeStatus: this.state.storeStatus },
        'governance: cannot read or restore the store; the policy in force stays')
    }
  }

  /** Why the stored configuration is older than the one loaded, or null when it is not. */
  private driftOf (snapshot: GovSnapshot): string | null {
    const good = this.loaded
    if (good === null) return null
    if (snapshot.policy === null) return 'the stored policy is missing'
    if (snapshot.revision < good.revision) return `the stored revision went back from ${good.revision} to ${snapshot.revision}`
    const stored = parse<StoredPolicy>(snapshot.policy, checkPolicy)
    if (stored.ok && stored.value.version < good.policy.value.version) {
      return `the stored policy version went back from ${good.policy.value.version} to ${stored.value.version}`
    }
    return null
  }

  private async restoreOver (snapshot: GovSnapshot, why: string): Promise<void> {
    const good = this.loaded as LoadedConfig
    const summary = { why, policyVersion: good.policy.value.version, revision: good.revision, storedRevision: snapshot.revision }
    if (this.state.storeStatus !== 'restoring') {
      this.state.storeStatus = 'restoring'
      this.log.warn(summary, 'governance: the store lost its configuration; serving the last good one and restoring it')
    }
    if (await this.restore(good, snapshot, why)) {
      this.state.restores++
      this.log.warn({ ...summary, campaigns: good.campaigns.size, penalties: good.penalties.size },
        'governance: restored the last good configuration to the store (audit entries and policy history from before the loss are gone)')
    } else {
      this.log.info(summary, 'governance: the store changed while restoring (another instance restored first?); reading it again')
    }
  }

  private apply (snapshot: GovSnapshot): void {
    const previous = this.loaded
    let policy = previous?.policy ?? null
    if (snapshot.policy !== null) {
      const p = parse<StoredPolicy>(snapshot.policy, checkPolicy)
      if (p.ok) policy = { value: p.value, raw: snapshot.policy }
      else this.reject('policy', p.problems)
    }
    const campaigns = this.pick(snapshot.campaigns, previous?.campaigns, 'campaign',
      (id, raw) => {
        const c = parse<StoredCampaign>(raw, checkCampaign(id))
        return c.ok ? { ok: true, value: c.value.campaign } : c
      })
    const penalties = this.pick(snapshot.penalties, previous?.penalties, 'penalty', (_id, raw) => parse<Penalty>(raw, (v) => penaltyErrors(v)))
    if (policy === null) return // nothing stored yet: the boot policy stays
    this.loaded = { revision: snapshot.revision, policy, campaigns, penalties }
    const inForce = new Map([...penalties].map(([id, p]) => [id, p.value]))
    this.state.replace(policy.value.document, [...campaigns.values()].map((c) => c.value), policy.value.version, inForce)
    this.state.revision = snapshot.revision
    this.state.storeStatus = 'in_step'
  }

  /** The valid records of a table; an invalid one keeps its previous value, if it had one. */
  private pick<T> (raws: Map<string, string>, previous: ReadonlyMap<string, Kept<T>> | undefined, kind: string,
    read: (id: string, raw: string) => Parsed<T>): Map<string, Kept<T>> {
    const next = new Map<string, Kept<T>>()
    for (const [id, raw] of raws) {
      const r = read(id, raw)
      if (r.ok) {
        next.set(id, { value: r.value, raw })
        continue
      }
      this.reject(`${kind}:${id}`, r.problems)
      const last = previous?.get(id)
      if (last !== undefined) next.set(id, last)
    }
    return next
  }

  private reject (record: string, problems: string[]): void {
    this.state.rejected({ at: new Date().toISOString(), record, problems })
    this.log.error({ record, problems }, 'governance: a stored record is invalid; its last good value stays in force')
  }
}
