import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { DecisionRecord } from '../services/decide/decision-service.js'
import type { EventRecord } from '../services/events/event-service.js'
import type { BreakerState } from '../redis/circuit-breaker.js'
import type { BuildInfo } from './build-info.js'
import type { StoreCallResult } from '../redis/store-faults.js'

/** Decisions take well under a millisecond on a healthy path; the buckets must see that. */
const DECISION_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1]
const HTTP_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]
const BREAKER_STATES: BreakerState[] = ['closed', 'open', 'half_open']
/** Store operations known today; series for them exist (at zero) from the start, so alerts see them. */
const STORE_OPS = ['decide', 'events', 'read_preferences', 'write_preferences', 'read_history', 'read_ledger', 'erase', 'ping']

/** The route label of a request no route matched: raw URLs may carry user ids. */
export const UNMATCHED_ROUTE = 'unmatched'

export interface MetricsSources {
  policyVersion: () => number
  /** Stored governance records refused as invalid since start (the last good value stayed in force). */
  rejectedPolicyRecords?: () => number
  /** Whether the governance store holds the configuration this instance serves, and the restores it wrote. */
  governance?: () => { inStep: boolean, restores: number }
  /** The store's circuit breaker state, or null for a store without one (memory). */
  breakerState: () => BreakerState | null
  storeKind: () => string
  /** User pseudonyms held in memory for the report counts until a flush reaches the store. */
  pendingReportUsers?: () => number
  /** Users the over-limit cache holds facts about (undefined: no cache). */
  overLimitEntries?: () => number
}

/**
 * Every metric popguard exports, in a registry of its own (never prom-client's global
 * one: tests build many apps in one process). Labels are bounded: no user or campaign ids.
 */
export class Metrics {
  readonly registry = new Registry()
  private sources: MetricsSources | null = null

  private readonly decisions = new Counter({
    name: 'popguard_decisions_total',
    help: 'Decisions answered, by outcome (shown: a campaign to show; none), mode, cohort and placement (one the policy declares, else "other").',
    labelNames: ['outcome', 'mode', 'cohort', 'placement'] as const,
    registers: [this.registry]
  })

  private readonly degraded = new Counter({
    name: 'popguard_decisions_degraded_total',
    help: 'Decisions answered by the policy\'s onStoreFailure because the store did not answer.',
    registers: [this.registry]
  })

  private readonly replayed = new Counter({
    name: 'popguard_decisions_replayed_total',
    help: 'Decisions answered from an earlier request with the same requestId (counted once).',
    registers: [this.registry]
  })

  private readonly candidates = new Counter({
    name: 'popguard_candidates_total',
    help: 'Candidate verdicts, by reason, campaign class, cohort and whether the rule was enforced (false: shadow mode or holdout).',
    labelNames: ['reason', 'class', 'cohort', 'enforced'] as const,
    registers: [this.registry]
  })

  private readonly shadowSuppressions = new Counter({
    name: 'popguard_shadow_suppressions_total',
    help: 'Candidates a rule in shadow mode ("mode": "shadow") would have suppressed, by rule (cap, cooldown, quiet_hours, fatigue) and cap id (the policy\'s, or empty).',
    labelNames: ['rule', 'cap_id'] as const,
    registers: [this.registry]
  })

  private readonly decisionSeconds = new Histogram({
    name: 'popguard_decision_duration_seconds',
    help: 'Time to decide, from the request body checked to the answer ready (store round trip included).',
    buckets: DECISION_BUCKETS,
    registers: [this.registry]
  })

  private readonly httpSeconds = new Histogram({
    name: 'popguard_http_request_duration_seconds',
    help: 'HTTP requests by method, route pattern (never the raw URL) and status code.',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: HTTP_BUCKETS,
    registers: [this.registry]
  })

  private readonly storeSeconds = new Histogram({
    name: 'popguard_store_call_duration_seconds',
    help: 'Round-trip time of store calls, by operation and result (ok; error: a store fault; script_error; late: the script started after its deadline).',
    labelNames: ['op', 'result'] as const,
    buckets: DECISION_BUCKETS,
    registers: [this.registry]
  })

  private readonly storeErrors = new Counter({
    name: 'popguard_store_errors_total',
    help: 'Store calls that failed for a store fault (timeout, connection refused, BUSY, LOADING, READONLY, OOM, ...), by operation; ' +
      'these feed the circuit breaker. Calls an open circuit refused are not made and not counted.',
    labelNames: ['op'] as const,
    registers: [this.registry]
  })

  private readonly storeScriptErrors = new Counter({
    name: 'popguard_store_script_errors_total',
    help: 'Store calls answered with an error reply that is not a store fault (a script\'s runtime error), by operation: ' +
      'that call was answered by the fallback; they never open the circuit breaker.',
    labelNames: ['op'] as const,
    registers: [this.registry]
  })

  private readonly storeLate = new Counter({
    name: 'popguard_store_late_scripts_total',
    help: 'Decisions whose script started after its deadline in Redis\'s clock: nothing was recorded and the decision followed onStoreFailure.',
    registers: [this.registry]
  })

  private readonly events = new Counter({
    name: 'popguard_events_total',
    help: 'Client events (shown, discarded, dismissed, clicked, converted, complained), by type and outcome (accepted, duplicate, unknown_decision, ...).',
    labelNames: ['type', 'outcome'] as const,
    registers: [this.registry]
  })

  private readonly usersDropped = new Counter({
    name: 'popguard_report_users_dropped_total',
    help: 'User pseudonyms left out of the daily distinct-user counts because POPGUARD_REPORTS_MAX_PENDING_USERS were waiting for a flush (the store away): those days\' user counts are lower bounds.',
    registers: [this.registry]
  })

  private readonly shed = new Counter({
    name: 'popguard_requests_shed_total',
    help: 'Requests answered 503 at once because this instance was past a load-shedding limit (POPGUARD_SHED_*), by the limit: in_flight, event_loop_delay, heap.',
    labelNames: ['reason'] as const,
    registers: [this.registry]
  })

  private readonly overLimitHits = new Counter({
    name: 'popguard_overlimit_cache_hits_total',
    help: 'Decisions the over-limit cache answered without Redis (each still logged and counted as a decision).',
    registers: [this.registry]
  })

  private readonly overLimitMisses = new Counter({
    name: 'popguard_overlimit_cache_misses_total',
    help: 'Decisions that went to the store while the over-limit cache was on (not covered by a fact, or not cacheable).',
    registers: [this.registry]
  })

  private readonly overLimitEvictions = new Counter({
    name: 'popguard_overlimit_cache_evictions_total',
    help: 'Users dropped from the over-limit cache to keep it within its bounds (entries, bytes), least recently used first.',
    registers: [this.registry]
  })

  private readonly breakerTransitions = new Counter({
    name: 'popguard_store_breaker_transitions_total',
    help: 'Changes of the store circuit breaker, by the state entered.',
    labelNames: ['state'] as const,
    registers: [this.registry]
  })

  constructor (build: BuildInfo = { version: 'unknown', commit: 'unknown' }) {
    new Gauge({
      name: 'popguard_build_info',
      help: 'The version (package.json) and commit (POPGUARD_COMMIT at image build, or "unknown") this instance runs; always 1.',
      labelNames: ['version', 'commit'] as const,
      registers: [this.registry]
    }).labels(build).set(1)
    for (const op of STORE_OPS) {
      this.storeErrors.labels({ op }).inc(0)
      this.storeScriptErrors.labels({ op }).inc(0)
    }
    for (const state of BREAKER_STATES) this.breakerTransitions.labels({ state }).inc(0)
    for (const reason of ['in_flight', 'event_loop_delay', 'heap']) this.shed.labels({ reason }).inc(0)
    const self = this
    new Gauge({ // eslint-disable-line no-new
      name: 'popguard_store_breaker_state',
      help: 'The store circuit breaker: 1 for the state it is in (closed, open, half_open), 0 for the others.',
      labelNames: ['state'] as const,
      registers: [this.registry],
      collect () {
        const now = self.sources?.breakerState() ?? 'closed'
        for (const state of BREAKER_STATES) this.labels({ state }).set(state === now ? 1 : 0)
      }
    })
    new Gauge({ // eslint-disable-line no-new
      name: 'popguard_report_pending_users',
      help: 'User pseudonyms held in memory for the report counts until a flush reaches the store (bounded per day and cohort).',
      registers: [this.registry],
      collect () {
        this.set(self.sources?.pendingReportUsers?.() ?? 0)
      }
    })
    new Gauge({ // eslint-disable-line no-new
      name: 'popguard_overlimit_cache_entries',
      help: 'Users the over-limit cache holds facts about (0 when it is off).',
      registers: [this.registry],
      collect () {
        this.set(self.sources?.overLimitEntries?.() ?? 0)
      }
    })
    new Gauge({ // eslint-disable-line no-new
      name: 'popguard_policy_version',
      help: 'Version of the policy in force on this instance.',
      registers: [this.registry],
      collect () {
        if (self.sources !== null) this.set(self.sources.policyVersion())
      }
    })
    let rejectedSeen = 0
    new Counter({ // eslint-disable-line no-new
      name: 'popguard_policy_rejected_records_total',
      help: 'Stored policy, campaign or penalty records refused as invalid on reload; the last good value of each stayed in force.',
      registers: [this.registry],
      collect () {
        const now = self.sources?.rejectedPolicyRecords?.() ?? rejectedSeen
        if (now > rejectedSeen) this.inc(now - rejectedSeen)
        rejectedSeen = now
      }
    })
    new Gauge({ // eslint-disable-line no-new
      name: 'popguard_governance_in_step',
      help: 'Whether the governance store holds the configuration this instance serves (1), or lost it and this instance is restoring it or has not loaded it yet (0).',
      registers: [this.registry],
      collect () {
        const governance = self.sources?.governance?.()
        if (governance !== undefined) this.set(governance.inStep ? 1 : 0)
      }
    })
    let restoresSeen = 0
    new Counter({ // eslint-disable-line no-new
      name: 'popguard_governance_restores_total',
      help: 'Times this instance wrote its last good configuration back to a governance store that had lost it (Redis restarted empty or from an older copy).',
      registers: [this.registry],
      collect () {
        const now = self.sources?.governance?.().restores ?? restoresSeen
        if (now > restoresSeen) this.inc(now - restoresSeen)
        restoresSeen = now
      }
    })
    new Gauge({ // eslint-disable-line no-new
      name: 'popguard_store_info',
      help: 'The kind of store this instance uses (memory, redis, redis-cluster); always 1.',
      labelNames: ['kind'] as const,
      registers: [this.registry],
      collect () {
        this.reset()
        if (self.sources !== null) this.labels({ kind: self.sources.storeKind() }).set(1)
      }
    })
    collectDefaultMetrics({ register: this.registry })
  }

  /** Where the gauges read their values when scraped; set once the app has them. */
  readFrom (sources: MetricsSources): void {
    this.sources = sources
  }

  readonly decision = (r: DecisionRecord): void => {
    const { answer } = r
    this.decisions.inc({
      outcome: answer.show === null ? 'none' : 'shown',
      mode: answer.mode,
      cohort: answer.cohort,
      placement: r.placement
    })
    if (r.degraded) this.degraded.inc()
    if (r.replayed) this.replayed.inc()
    if (r.cached === true) this.overLimitHits.inc()
    else if (r.cached === false) this.overLimitMisses.inc()
    answer.candidates.forEach((c, i) => {
      this.candidates.inc({
        reason: c.reason,
        class: r.classes[i] ?? 'unknown',
        cohort: answer.cohort,
        enforced: c.enforced === false ? 'false' : 'true'
      })
    })
    // Cap ids come from the policy, never from a client: the label's values are bounded by it.
    if (r.shadows !== undefined && !r.replayed) {
      for (const s of r.shadows) {
        if (s !== null && s !== undefined) this.shadowSuppressions.inc({ rule: s.reason === 'cap_exceeded' ? 'cap' : s.reason, cap_id: s.capId ?? '' })
      }
    }
    this.decisionSeconds.observe(r.seconds)
  }

  readonly event = (r: EventRecord): void => {
    this.events.inc({ type: r.type, outcome: r.outcome })
  }

  readonly httpRequest = (method: string, route: string, statusCode: number, seconds: number): void => {
    this.httpSeconds.observe({ method, route, status_code: String(statusCode) }, seconds)
  }

  readonly storeCall = (op: string, seconds: number, result: StoreCallResult): void => {
    this.storeSeconds.observe({ op, result }, seconds)
    if (result === 'error') this.storeErrors.inc({ op })
    else if (result === 'script_error') this.storeScriptErrors.inc({ op })
    else if (result === 'late') this.storeLate.inc()
  }

  readonly reportUsersDropped = (n: number): void => {
    this.usersDropped.inc(n)
  }

  readonly requestShed = (reason: string): void => {
    this.shed.inc({ reason })
  }

  readonly overLimitEvicted = (): void => {
    this.overLimitEvictions.inc()
  }

  readonly breakerChanged = (state: BreakerState): void => {
    this.breakerTransitions.inc({ state })
  }
}
