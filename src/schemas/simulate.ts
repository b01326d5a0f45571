import { Type } from '@sinclair/typebox'

/** The longest replay window the route accepts, in hours. */
export const MAX_SIMULATE_HOURS = 24 * 31

export const SimulateRequest = Type.Object({
  candidate: Type.Unknown({
    description: 'The candidate: a `{policy, campaigns}` document, the shape of POPGUARD_POLICY_FILE, optionally with `penalties` ' +
      '(campaign id → `{action, reason, until, caps}`) to try. Checked whole; an invalid one is a 422 naming its fields.'
  }),
  logs: Type.Optional(Type.String({
    description: 'Decision log lines (NDJSON, as popguard writes them; other lines are skipped). Absent: the log file this instance is configured to read ' +
      '(POPGUARD_SIMULATE_LOG_FILE). The whole request is limited to POPGUARD_SIMULATE_MAX_UPLOAD_BYTES (413 beyond).'
  })),
  hours: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_SIMULATE_HOURS, description: 'Only the last `hours` of decisions (by their own times) are replayed.' }))
}, { additionalProperties: false, $id: 'SimulateRequest', description: 'A candidate policy, and the decisions to replay it against.' })

const Counts = Type.Record(Type.String(), Type.Integer())
const Num = Type.Union([Type.Number(), Type.Null()])

const Side = Type.Object({
  decisions: Type.Integer(),
  requested: Type.Integer({ description: 'Candidates named in decisions (all classes).' }),
  allowed: Type.Integer({ description: 'Decisions answered with a pop-up.' }),
  degraded: Type.Integer(),
  suppressed: Type.Record(Type.String(), Type.Integer(), { description: 'Candidates not shown, by reason.' }),
  wouldSuppress: Type.Record(Type.String(), Type.Integer(), { description: 'Candidates a rule in shadow mode would have suppressed, by rule.' }),
  marketing: Type.Object({ requested: Type.Integer(), shown: Type.Integer(), reduction: Num }),
  perUserDay: Type.Object({
    userDays: Type.Integer(),
    mean: Num,
    p50: Num,
    p95: Num,
    max: Num,
    histogram: Type.Record(Type.String(), Type.Integer(), { description: 'Pop-ups shown in a user-day → user-days (merges replays split by user).' })
  }, { description: 'Marketing pop-ups shown per user per day they asked.' }),
  campaigns: Type.Array(Type.Object({
    campaignId: Type.String(),
    class: Type.String(),
    requested: Type.Integer(),
    allowed: Type.Integer(),
    suppressed: Counts,
    wouldSuppress: Counts
  })),
  days: Type.Array(Type.Object({ day: Type.String(), decisions: Type.Integer(), marketingRequested: Type.Integer(), marketingShown: Type.Integer(), reduction: Num }))
})

export const SimulateAnswer = Type.Object({
  source: Type.Union([Type.Literal('upload'), Type.Literal('file')]),
  from: Type.Union([Type.String(), Type.Null()], { description: 'Decisions at or after this instant were replayed; null: all.' }),
  truncated: Type.Union([Type.Literal('time'), Type.Literal('users'), Type.Null()], {
    description: 'Why the replay stopped before the end of its input (POPGUARD_SIMULATE_TIMEOUT_MS, POPGUARD_SIMULATE_MAX_USERS), or null.'
  }),
  lines: Type.Object({
    read: Type.Integer(),
    decisions: Type.Integer(),
    events: Type.Integer(),
    ignored: Type.Integer(),
    replayedRequests: Type.Integer(),
    bad: Type.Integer(),
    outsideWindow: Type.Integer()
  }),
  badLines: Type.Array(Type.Object({ line: Type.Integer(), error: Type.String() }), { description: 'The first malformed lines (all are counted in `lines.bad`).' }),
  recorded: Side,
  candidate: Side,
  difference: Type.Object({
    allowed: Type.Integer(),
    suppressed: Counts,
    wouldSuppress: Counts,
    marketingShown: Type.Integer(),
    reduction: Num,
    perUserDay: Type.Object({ mean: Num, p50: Num, p95: Num, max: Num }),
    campaigns: Type.Array(Type.Object({ campaignId: Type.String(), allowed: Type.Integer(), suppressed: Counts }))
  }, { description: 'candidate - recorded.' }),
  agreement: Type.Object({
    decisions: Type.Integer(),
    sameAnswer: Type.Integer({ description: 'Decisions the candidate answers as recorded.' }),
    differences: Type.Array(Type.Object({ line: Type.Integer(), decisionId: Type.String(), recorded: Type.String(), candidate: Type.String() }))
  }),
  assumptions: Type.Array(Type.String(), { description: 'What the log cannot tell, and what was assumed instead.' })
}, { $id: 'SimulateResponse', description: 'The daily report\'s figures, recorded and under the candidate, side by side.' })
