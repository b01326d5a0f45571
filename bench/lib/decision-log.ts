/**
 * Decision log lines shaped as the service writes them (event "decision" and itemised "events"),
 * for the example policy's campaigns: the input of bench/simulate.ts and bench/generate-decision-log.ts.
 * The recorded verdicts are plausible, not exact: throughput does not depend on them.
 */
const CAMPAIGNS: [id: string, cls: string][] = [
  ['spring-sale', 'marketing'], ['cashback-weekend', 'marketing'], ['quick-loan', 'marketing'],
  ['new-card-design', 'marketing'], ['app-update', 'service'], ['fraud-warning', 'critical']
]
const PLACEMENTS = ['home', 'feed', 'wallet', 'after-payment']
const REASONS = ['cap_exceeded', 'cooldown', 'quiet_hours', 'lower_priority']

/** A small deterministic PRNG. */
export function prng (seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export interface LogShape {
  lines: number
  users: number
  /** First decision's time (ms); lines span one day. */
  start: number
  seed?: number
}

/** Yields `lines` lines: about one `events` line for every eight decisions. */
export function * decisionLog (shape: LogShape): Generator<string> {
  const rnd = prng(shape.seed ?? 16)
  const step = 86_400_000 / shape.lines
  let n = 0
  let i = 0
  while (n < shape.lines) {
    const at = Math.floor(shape.start + i * step)
    const user = 'p' + Math.floor(rnd() * shape.users).toString(36).padStart(6, '0')
    const decisionId = (i.toString(16).padStart(8, '0')) + '-0000-4000-8000-000000000000'
    const count = 1 + Math.floor(rnd() * 3)
    const first = Math.floor(rnd() * CAMPAIGNS.length)
    const shownAt = rnd() < 0.4 ? 0 : -1
    const candidates = []
    for (let k = 0; k < count; k++) {
      const [campaignId, cls] = CAMPAIGNS[(first + k) % CAMPAIGNS.length] as [string, string]
      const allowed = k === shownAt
      const reason = allowed ? 'eligible' : REASONS[Math.floor(rnd() * REASONS.length)] as string
      candidates.push({ campaignId, allowed, reason, capId: reason === 'cap_exceeded' ? 'daily' : undefined, class: cls })
    }
    const shown = shownAt === 0 ? candidates[0]?.campaignId ?? null : null
    yield JSON.stringify({
      level: 30,
      time: at,
      pid: 1,
      hostname: 'popguard-1',
      reqId: 'req-' + i.toString(36),
      event: 'decision',
      decisionId,
      user,
      placement: PLACEMENTS[Math.floor(rnd() * PLACEMENTS.length)],
      shown,
      candidates,
      policyVersion: 7,
      mode: 'enforce',
      cohort: rnd() < 0.05 ? 'holdout' : 'treated',
      degraded: false,
      replayed: false,
      latencyMs: 0.412,
      at,
      timezone: 'Asia/Shanghai',
      msg: 'decision'
    })
    n++
    i++
    if (shown !== null && rnd() < 0.3 && n < shape.lines) {
      yield JSON.stringify({
        level: 30,
        time: at + 1000,
        event: 'events',
        received: 1,
        users: 1,
        byType: { shown: 1 },
        byOutcome: { accepted: 1 },
        latencyMs: 0.3,
        at: at + 1000,
        items: [{ user, decisionId, campaignId: shown, type: rnd() < 0.9 ? 'shown' : 'dismissed', at: at + 1000, outcome: 'accepted' }],
        msg: 'events'
      })
      n++
    }
  }
}
