import { randomUUID } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import { penaltyInForce, placementOf, type CompiledPolicy } from '../../rules/policy/compile.js'
import { StoreUnavailableError, type Store } from '../../store/user-store.js'
import { InvalidTimezoneError } from '../../errors.js'
import { fallbackVerdicts } from '../../rules/decide/fallback.js'
import { cohortOf } from '../../rules/decide/cohort.js'
import { planDecision, type DecideInput } from '../../rules/decide/plan.js'
import { canonicalTimeZone } from '../../rules/time.js'
import type { Cohort, DecisionPlan, Reason, Verdict } from '../../rules/decide/types.js'
import type { OverLimitCache } from './over-limit-cache.js'

export interface CandidateAnswer {
  campaignId: string
  allowed: boolean
  reason: Reason
  capId?: string
  retryAfterSeconds?: number
  enforced?: false
}

export interface DecideAnswer {
  decisionId: string
  show: { campaignId: string } | null
  candidates: CandidateAnswer[]
  policyVersion: number
  mode: 'enforce' | 'shadow'
  cohort: Cohort
}

/** What observers (metrics, reports) learn of each decision. */
export interface DecisionRecord {
  answer: DecideAnswer
  /** A declared placement or `other`: never the client's own string. */
  placement: string
  /** The user's pseudonym (HMAC with the log key), never the raw id. */
  user: string
  classes: ('critical' | 'service' | 'marketing' | 'unknown')[]
  degraded: boolean
  replayed: boolean
  /** Answered by the over-limit cache (true), by the store (false); undefined when the cache is off. */
  cached?: boolean
  seconds: number
  /** The service clock's ms when it decided (the simulator's virtual clock). */
  at?: number
  /** The zone the rules used (canonical). */
  timezone?: string
  /** Per candidate: a rule in shadow mode that would have suppressed it (never in the answer), else null. */
  shadows?: (Verdict['shadow'] | null)[]
}

const STORE_WARNING_EVERY_MS = 1000

type Echo = [version: number, mode: DecideAnswer['mode'], cohort: Cohort]

export interface DecisionServiceOptions {
  store: Store
  policy: () => CompiledPolicy
  logger: FastifyBaseLogger
  pseudonym: (userId: string) => string
  /** The user's key tag in the store (keyed HMAC, see userTagger). */
  userTag: (userId: string) => string
  clock: () => number
  /** The over-limit cache (docs/architecture.md), or null when off. */
  cache?: OverLimitCache | null
}

function answerOf (input: DecideInput, winner: number, verdicts: Verdict[], decisionId: string, echo: Echo): DecideAnswer {
  const candidates = input.candidates.map(({ campaignId }, i): CandidateAnswer => {
    const v = verdicts[i] ?? { reason: 'degraded' }
    const a: CandidateAnswer = { campaignId, allowed: i === winner, reason: v.reason }
    if (v.capId !== undefined) a.capId = v.capId
    if (v.retryMs !== undefined) a.retryAfterSeconds = Math.max(1, Math.ceil(v.retryMs / 1000))
    if (v.unenforced === true) a.enforced = false
    return a
  })
  const shown = input.candidates[winner]
  return {
    decisionId,
    show: shown === undefined ? null : { campaignId: shown.campaignId },
    candidates,
    policyVersion: echo[0],
    mode: echo[1],
    cohort: echo[2]
  }
}

/** A limit penalty's end for candidate i (its caps leave the plan then), else Infinity. */
function penaltyEnd (policy: CompiledPolicy, input: DecideInput, i: number, now: number): number {
  const campaignId = input.candidates[i]?.campaignId
  const penalty = campaignId === undefined ? undefined : policy.campaigns.get(campaignId)?.penalty
  if (penalty === undefined || penalty === null || penalty.action !== 'limit' || !penaltyInForce(penalty.untilMs, now)) return Infinity
  return penalty.untilMs ?? Infinity
}

export class DecisionService {
  private readonly observers: ((r: DecisionRecord) => void)[] = []
  private lastStoreWarning = -Infinity
  private suppressedStoreWarnings = 0
  /** The compiled policy the cache's facts were learnt under: a new one (any policy, campaign or penalty change) clears them. */
  private cachedUnder: CompiledPolicy | null = null

  constructor (private readonly opts: DecisionServiceOptions) {}

  onDecision (observer: (r: DecisionRecord) => void): void {
    this.observers.push(observer)
  }

  /** `log`: the request's logger, so the decision line carries its `reqId`. */
  async decide (raw: DecideInput, log: FastifyBaseLogger = this.opts.logger): Promise<DecideAnswer> {
    const started = performance.now()
    const policy = this.opts.policy()
    const timezone = raw.context?.timezone === undefined ? policy.defaultTimezone : canonicalTimeZone(raw.context.timezone)
    if (timezone === null) throw new InvalidTimezoneError(raw.context?.timezone ?? '')
    // Normalised once, here: nothing past this line sees a placement the policy does not declare.
    const input: DecideInput = { ...raw, placement: placementOf(policy, raw.placement) }

    const cohort = cohortOf(input.userId, policy.holdout)
    const echo: Echo = [policy.version, policy.mode, cohort]
    const plan = planDecision(input, policy, timezone, {
      now: this.opts.clock(),
      decisionId: randomUUID(),
      enforce: policy.mode === 'enforce' && cohort === 'treated',
      echo: JSON.stringify(echo)
    })

    const tag = this.opts.userTag(input.userId)
    const { answer, degraded, replayed, cached, verdicts } = await this.answer(tag, input, plan, policy, timezone, echo)
    const record: DecisionRecord = {
      answer,
      placement: input.placement,
      user: this.opts.pseudonym(input.userId),
      classes: input.candidates.map((c) => policy.campaigns.get(c.campaignId)?.class ?? 'unknown'),
      degraded,
      replayed,
      seconds: (performance.now() - started) / 1000,
      at: plan.now,
      timezone
    }
    if (cached !== undefined) record.cached = cached
    if (!degraded && verdicts?.some((v) => v.shadow !== undefined) === true) record.shadows = verdicts.map((v) => v.shadow ?? null)
    this.log(input, record, log)
    for (const observe of this.observers) observe(record)
    return answer
  }

  /** Drops what the cache holds about one user (a published change). */
  forgetCached (tag: string): void {
    this.opts.cache?.forget(tag)
  }

  /** The cache's answer when it covers the request, else the store's (and the cache learns from it). */
  private async answer (tag: string, input: DecideInput, plan: DecisionPlan, policy: CompiledPolicy, timezone: string, echo: Echo):
  Promise<{ answer: DecideAnswer, degraded: boolean, replayed: boolean, cached?: boolean, verdicts?: Verdict[] }> {
    const cache = this.opts.cache
    if (cache === undefined || cache === null) return await this.run(tag, input, plan, policy, echo)
    if (this.cachedUnder !== policy) {
      cache.clear()
      this.cachedUnder = policy
    }
    const hit = cache.lookup(tag, plan, timezone)
    if (hit !== null) {
      if ('replay' in hit) return { answer: hit.replay as DecideAnswer, degraded: false, replayed: true, cached: true }
      const answer = answerOf(input, -1, hit.verdicts, plan.decisionId, echo)
      cache.answered(tag, plan.requestId, answer)
      return { answer, degraded: false, replayed: false, cached: true, verdicts: hit.verdicts }
    }
    const result = await this.run(tag, input, plan, policy, echo)
    if (!result.degraded && !result.replayed && this.cachedUnder === policy) {
      cache.learn(tag, plan, timezone, result.winner, result.verdicts, (i) => penaltyEnd(policy, input, i, plan.now), result.consentClear)
    }
    return { ...result, cached: false }
  }

  private async run (tag: string, input: DecideInput, plan: DecisionPlan, policy: CompiledPolicy, echo: Echo) {
    try {
      const outcome = await this.opts.store.decide(tag, plan)
      const firstEcho = outcome.replayed ? JSON.parse(outcome.echo) as Echo : echo
      return {
        answer: answerOf(input, outcome.winner, outcome.verdicts, outcome.decisionId, firstEcho),
        degraded: false,
        replayed: outcome.replayed,
        winner: outcome.winner,
        verdicts: outcome.verdicts,
        consentClear: outcome.consentClear === true
      }
    } catch (err) {
      if (!(err instanceof StoreUnavailableError)) throw err
      this.warnStoreUnavailable(err.message)
      const { winner, verdicts } = fallbackVerdicts(plan, policy)
      return { answer: answerOf(input, winner, verdicts, plan.decisionId, echo), degraded: true, replayed: false, winner, verdicts, consentClear: false }
    }
  }

  /**
   * At most one warning a second while the store is down: every decision line already says
   * `degraded: true`, and an outage must not multiply the log volume by the request rate.
   */
  private warnStoreUnavailable (message: string): void {
    const now = this.opts.clock()
    if (now - this.lastStoreWarning < STORE_WARNING_EVERY_MS) {
      this.suppressedStoreWarnings++
      return
    }
    this.opts.logger.warn({ err: { message }, suppressed: this.suppressedStoreWarnings }, 'store unavailable: answering by onStoreFailure')
    this.lastStoreWarning = now
    this.suppressedStoreWarnings = 0
  }

  private log (input: DecideInput, r: DecisionRecord, log: FastifyBaseLogger): void {
    const a = r.answer
    log.info({
      event: 'decision',
      decisionId: a.decisionId,
      user: r.user,
      placement: input.placement,
      shown: a.show?.campaignId ?? null,
      candidates: a.candidates.map((c, i) => ({ campaignId: c.campaignId, allowed: c.allowed, reason: c.reason, capId: c.capId, enforced: c.enforced, class: r.classes[i], shadow: r.shadows?.[i] ?? undefined })),
      policyVersion: a.policyVersion,
      mode: a.mode,
      cohort: a.cohort,
      degraded: r.degraded,
      replayed: r.replayed,
      cache: r.cached === true,
      latencyMs: Math.round(r.seconds * 1e6) / 1000,
      // What a replay needs beyond the verdicts (docs/simulator.md): the decision's own clock, the zone, the activity.
      at: r.at,
      timezone: r.timezone,
      activity: input.context?.activity
    }, 'decision')
  }
}
