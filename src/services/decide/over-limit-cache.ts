/**
 * The over-limit cache: what Redis proved about a user's marketing candidates being capped or in
 * cooldown until a known time, kept so the next request covered by it needs no round trip.
 * A fact only ever loosens with time or with a change that is published (docs/architecture.md,
 * "The over-limit cache"), so a stale fact suppresses more, never shows more. No I/O here.
 */
import type { DecisionPlan, PlanCandidate, Verdict } from '../../rules/decide/types.js'

export const DEFAULT_MAX_ENTRIES = 100_000
export const DEFAULT_MAX_BYTES = 32 * 1024 * 1024
/** Retried requestIds a user's entry remembers (sent to Redis, or answered here). */
const IDS_KEPT = 4
/** Estimated bytes of an entry without its strings, and of one fact or remembered id (V8 objects, Map slots). */
const ENTRY_BYTES = 240
const FACT_BYTES = 120

interface CapFact { capId: string, retryAt: number, expires: number }

interface Entry {
  /** Cooldown: marketing suppressed until coolRetryAt, for the campaigns Redis said so of. */
  coolRetryAt: number
  coolExpires: number
  cooled: Set<string>
  /** Redis said no consent rule is in force for the user: the cooldown covers every marketing campaign. */
  coolAll: boolean
  /** `<campaign code>|<placement code>|<time zone>` -> the first cap exceeded for it. */
  caps: Map<string, CapFact>
  /** requestIds Redis decided for this user: their retries go to Redis (it replays). */
  sent: string[]
  /** requestIds answered here, with their answer: a retry gets the same one. */
  answered: { id: string, answer: unknown }[]
  expires: number
  bytes: number
}

export interface OverLimitCacheOptions {
  /** Longest a fact is trusted after Redis said it (ms); > 0. */
  maxStalenessMs: number
  maxEntries?: number
  maxBytes?: number
  onEvict?: () => void
}

/** A lookup's result: every candidate's verdict, or the earlier answer to the same requestId. */
export type CacheHit = { verdicts: Verdict[] } | { replay: unknown }

/** Verdicts that are reached only past the consent rules (opt-out, category opt-out, complaint): the candidate's consent was clear. */
const PAST_CONSENT: ReadonlySet<Verdict['reason']> = new Set(['eligible', 'lower_priority', 'do_not_interrupt', 'quiet_hours', 'cooldown', 'cap_exceeded'])

function pastConsent (c: PlanCandidate, v: Verdict | undefined): boolean {
  return c.classCode === 'm' && c.final === '' && v !== undefined && v.unenforced !== true && PAST_CONSENT.has(v.reason)
}

const capKey = (c: PlanCandidate, plan: DecisionPlan, timezone: string): string => `${c.campaignCode}|${plan.placementCode}|${timezone}`

function emptyEntry (tag: string): Entry {
  return { coolRetryAt: 0, coolExpires: 0, cooled: new Set(), coolAll: false, caps: new Map(), sent: [], answered: [], expires: 0, bytes: ENTRY_BYTES + tag.length * 2 }
}

export class OverLimitCache {
  private readonly entries = new Map<string, Entry>()
  private totalBytes = 0
  /** Off until the invalidation channel is listened to, and while it is not (messages would be missed). */
  private listening = false
  private readonly maxEntries: number
  private readonly maxBytes: number

  constructor (private readonly opts: OverLimitCacheOptions) {
    this.maxEntries = opts.maxEntries ?? DEFAULT_MAX_ENTRIES
    this.maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES
  }

  get size (): number { return this.entries.size }
  get live (): boolean { return this.listening }

  /** The invalidation channel is listened to (again): what was learnt before may have missed messages. */
  resume (): void {
    this.clear()
    this.listening = true
  }

  /** The invalidation channel was lost: answer nothing, learn nothing, until resume(). */
  suspend (): void {
    this.listening = false
    this.clear()
  }

  get bytes (): number { return this.totalBytes }

  /**
   * The verdicts for this plan if every candidate is covered at `plan.now`, else null (ask Redis).
   * Never for a service or critical candidate, nor outside enforcement (shadow mode, holdout).
   */
  lookup (tag: string, plan: DecisionPlan, timezone: string): CacheHit | null {
    if (!this.listening) return null
    const e = this.entries.get(tag)
    if (e === undefined) return null
    const now = plan.now
    if (e.expires <= now) {
      this.drop(tag, e)
      return null
    }
    const id = plan.requestId
    if (id !== '') {
      if (e.sent.includes(id)) return null
      const earlier = e.answered.find((a) => a.id === id)
      if (earlier !== undefined) return this.touch(tag, e, { replay: earlier.answer })
    }
    if (!plan.enforce) return null
    const cooling = e.coolExpires > now
    const verdicts: Verdict[] = []
    for (const c of plan.candidates) {
      if (c.final !== '') {
        verdicts.push({ reason: c.final })
        continue
      }
      if (c.classCode !== 'm') return null
      const cooled = cooling && (e.coolAll || e.cooled.has(c.campaignCode))
      let cap = e.caps.get(capKey(c, plan, timezone))
      if (cap !== undefined && cap.expires <= now) cap = undefined
      // A fact names the campaign: its opt-out and complaint state were clear then (a change since is published).
      if (!cooled && cap === undefined) return null
      // The plan's gates come after opt-out; the cooldown (user-wide) before any cap.
      if (c.gate !== '') verdicts.push(c.gateRetryMs > 0 ? { reason: c.gate, retryMs: c.gateRetryMs } : { reason: c.gate })
      else if (cooling) verdicts.push({ reason: 'cooldown', retryMs: e.coolRetryAt - now })
      else if (cap !== undefined) verdicts.push({ reason: 'cap_exceeded', capId: cap.capId, retryMs: cap.retryAt - now })
    }
    return this.touch(tag, e, { verdicts })
  }

  /** Keeps a cached answer for a retry of the same requestId (only when the plan has one). */
  answered (tag: string, requestId: string, answer: unknown): void {
    const e = this.entries.get(tag)
    if (e === undefined || requestId === '') return
    if (e.answered.length >= IDS_KEPT) this.resize(tag, e, -FACT_BYTES - (e.answered.shift()?.id.length ?? 0) * 2)
    e.answered.push({ id: requestId, answer })
    this.resize(tag, e, FACT_BYTES + requestId.length * 2)
  }

  /**
   * What Redis's answer proves (enforced decisions only). A show drops the user's facts (counts moved)
   * and, for a marketing show under a cooldown, starts one: until now + cooldown no marketing campaign
   * whose consent was just seen clear can be shown (that is a fact about suppression, never a cached
   * show). Otherwise an enforced cooldown, and each cap_exceeded with a retry time, become facts.
   * `until(i)`: a bound on candidate i's cap facts besides their own time (a limit penalty's end).
   * `consentClear`: Redis saw no consent rule in force for the user, so the cooldown covers every
   * marketing campaign, named in this request or not.
   */
  learn (tag: string, plan: DecisionPlan, timezone: string, winner: number, verdicts: readonly Verdict[], until: (i: number) => number,
    consentClear = false): void {
    if (!plan.enforce || !this.listening) return
    const now = plan.now
    const stale = now + this.opts.maxStalenessMs
    let e = this.entries.get(tag)
    let coolRetryAt = 0
    let sent: string[] = []
    if (winner !== -1) {
      if (e !== undefined) {
        sent = e.sent
        this.drop(tag, e)
        e = undefined
      }
      // A cooldown in shadow mode stops nothing, so it is no fact to answer from.
      if (plan.candidates[winner]?.classCode === 'm' && plan.cooldownMs > 0 && !plan.cooldownShadow) coolRetryAt = now + plan.cooldownMs
    } else {
      for (const v of verdicts) if (v.reason === 'cooldown' && v.unenforced !== true && v.retryMs !== undefined && v.retryMs > 0) coolRetryAt = now + v.retryMs
    }
    let added = 0
    const entry = (): Entry => {
      if (e === undefined) {
        e = this.insert(tag, emptyEntry(tag))
        for (const id of sent) added += this.remember(e, id, stale)
      }
      return e
    }
    if (coolRetryAt > now) {
      // With unconfirmed reservations released, the impression behind the cooldown may leave at its lease's end.
      const leaseEnd = plan.releaseUnconfirmed ? coolRetryAt - plan.cooldownMs + plan.leaseMs : Infinity
      const expires = Math.min(coolRetryAt, stale, leaseEnd)
      if (consentClear && expires > now) {
        const x = entry()
        x.coolAll = true
        x.coolRetryAt = coolRetryAt
        x.coolExpires = expires
        x.expires = Math.max(x.expires, expires)
      }
      plan.candidates.forEach((c, i) => {
        if (expires <= now || !pastConsent(c, verdicts[i])) return
        const x = entry()
        if (!x.cooled.has(c.campaignCode)) added += FACT_BYTES
        x.cooled.add(c.campaignCode)
        x.coolRetryAt = coolRetryAt
        x.coolExpires = expires
        x.expires = Math.max(x.expires, expires)
      })
    }
    if (winner === -1) {
      plan.candidates.forEach((c, i) => {
        const v = verdicts[i]
        if (v?.reason !== 'cap_exceeded' || v.capId === undefined || v.retryMs === undefined || v.retryMs <= 0 || !pastConsent(c, v)) return
        const retryAt = now + v.retryMs
        const expires = Math.min(retryAt, stale, until(i))
        if (expires <= now) return
        const x = entry()
        const key = capKey(c, plan, timezone)
        if (!x.caps.has(key)) added += FACT_BYTES + key.length * 2 + v.capId.length * 2
        x.caps.set(key, { capId: v.capId, retryAt, expires })
        x.expires = Math.max(x.expires, expires)
      })
    }
    // A retry of this requestId must reach Redis, which replays the first answer.
    if (plan.requestId !== '' && (e !== undefined || winner !== -1)) added += this.remember(entry(), plan.requestId, stale)
    if (e !== undefined) this.resize(tag, e, added)
  }

  /** Adds a requestId sent to Redis; answers the change in the entry's bytes. */
  private remember (e: Entry, requestId: string, stale: number): number {
    if (e.sent.includes(requestId)) return 0
    let delta = FACT_BYTES + requestId.length * 2
    if (e.sent.length >= IDS_KEPT) delta -= FACT_BYTES + (e.sent.shift()?.length ?? 0) * 2
    e.sent.push(requestId)
    e.expires = Math.max(e.expires, stale)
    return delta
  }

  /** Drops one user's facts (their preferences changed, an event freed a slot, erasure). */
  forget (tag: string): void {
    const e = this.entries.get(tag)
    if (e !== undefined) this.drop(tag, e)
  }

  clear (): void {
    this.entries.clear()
    this.totalBytes = 0
  }

  private touch (tag: string, e: Entry, hit: CacheHit): CacheHit {
    // Map order is the LRU order: the most recently used last.
    this.entries.delete(tag)
    this.entries.set(tag, e)
    return hit
  }

  private insert (tag: string, e: Entry): Entry {
    this.entries.set(tag, e)
    this.totalBytes += e.bytes
    this.evict()
    return e
  }

  private resize (tag: string, e: Entry, delta: number): void {
    e.bytes += delta
    if (this.entries.get(tag) === e) this.totalBytes += delta
    this.evict()
  }

  private drop (tag: string, e: Entry): void {
    this.entries.delete(tag)
    this.totalBytes -= e.bytes
  }

  private evict (): void {
    while (this.entries.size > this.maxEntries || (this.totalBytes > this.maxBytes && this.entries.size > 0)) {
      const oldest = this.entries.keys().next()
      if (oldest.done === true) return
      this.drop(oldest.value, this.entries.get(oldest.value) as Entry)
      this.opts.onEvict?.()
    }
  }
}
