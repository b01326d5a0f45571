import type { FastifyBaseLogger } from 'fastify'
import type { PolicyState } from '../policy/policy-state.js'
import type { Campaign, Penalty } from '../policy/schema.js'
import { campaignErrors, penaltyErrors, policyErrors, type FieldError } from '../policy/validate.js'
import type { GovernanceStore, GovSnapshot, StoredCampaign, StoredPolicy } from './governance-store.js'

/** How often an instance asks for the revision, in case a pub/sub message was missed. */
export const DEFAULT_CHECK_EVERY_MS = 2000

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
 * stored record that turns out invalid.
 */
export class PolicySync {
  private policy: StoredPolicy | null = null
  private campaigns = new Map<string, Campaign>()
  private penalties = new Map<string, Penalty>()
  private loading: Promise<void> | null = null
  private again = false
  private timer: NodeJS.Timeout | null = null
  private lastCheckFailure = 0

  constructor (
    private readonly store: GovernanceStore,
    private readonly state: PolicyState,
    private readonly log: FastifyBaseLogger
  ) {}

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
        do {
          this.again = false
          this.apply(await this.store.snapshot())
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
      if (await this.store.revision() !== this.state.revision) await this.refresh()
    } catch (err) {
      if (Date.now() - this.lastCheckFailure < 30_000) return
      this.lastCheckFailure = Date.now()
      this.log.warn({ err: { message: (err as Error).message } }, 'governance: cannot read the store; the policy in force stays')
    }
  }

  private apply (snapshot: GovSnapshot): void {
    if (snapshot.policy !== null) {
      const p = parse<StoredPolicy>(snapshot.policy, checkPolicy)
      if (p.ok) this.policy = p.value
      else this.reject('policy', p.problems)
    }
    this.campaigns = this.pick(snapshot.campaigns, this.campaigns, 'campaign',
      (id, raw) => {
        const c = parse<StoredCampaign>(raw, checkCampaign(id))
        return c.ok ? { ok: true, value: c.value.campaign } : c
      })
    this.penalties = this.pick(snapshot.penalties, this.penalties, 'penalty', (_id, raw) => parse<Penalty>(raw, (v) => penaltyErrors(v)))
    if (this.policy === null) return // nothing stored yet: the boot policy stays
    this.state.replace(this.policy.document, [...this.campaigns.values()], this.policy.version, this.penalties)
    this.state.revision = snapshot.revision
  }

  /** The valid records of a table; an invalid one keeps its previous value, if it had one. */
  private pick<T> (raws: Map<string, string>, previous: Map<string, T>, kind: string,
    read: (id: string, raw: string) => Parsed<T>): Map<string, T> {
    const next = new Map<string, T>()
    for (const [id, raw] of raws) {
      const r = read(id, raw)
      if (r.ok) {
        next.set(id, r.value)
        continue
      }
      this.reject(`${kind}:${id}`, r.problems)
      const last = previous.get(id)
      if (last !== undefined) next.set(id, last)
    }
    return next
  }

  private reject (record: string, problems: string[]): void {
    this.state.rejected({ at: new Date().toISOString(), record, problems })
    this.log.error({ record, problems }, 'governance: a stored record is invalid; its last good value stays in force')
  }
}
