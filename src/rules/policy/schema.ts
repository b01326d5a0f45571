import { Type, type Static } from '@sinclair/typebox'

/** `30s`, `10m`, `1h`, `7d`: a whole number and a unit. */
export const Duration = Type.String({
  pattern: '^[1-9][0-9]{0,5}(s|m|h|d)$',
  description: 'A duration: a whole number and a unit (s, m, h, d), e.g. `10m`, `1d`.'
})

export const ClockTime = Type.String({
  pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$',
  description: 'A local time of day, `HH:MM`, 24-hour clock.'
})

/** Placements a policy may declare: the metrics label and report rows have one value per placement, plus `other`. */
export const MAX_PLACEMENTS = 50
/** Every placement a client sends that the policy does not declare is counted, capped and reported as this one. */
export const OTHER_PLACEMENT = 'other'

export const PlacementName = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.:-]+$' })

/** A rule's mode: `shadow` evaluates and reports it (decision log, metrics, the daily report's `wouldSuppress`) but never applies it. */
export const RuleMode = Type.Union([Type.Literal('enforce'), Type.Literal('shadow')], {
  description: '`shadow`: the rule is evaluated and reported (decision log, `popguard_shadow_suppressions_total`, the daily report\'s `wouldSuppress`) but never suppresses; `enforce` (the default) applies it.'
})
export type RuleMode = Static<typeof RuleMode>

export const CapMatch = Type.Object({
  category: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  campaign: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  placement: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'A declared placement or `other` (every undeclared one).' }))
}, { additionalProperties: false, description: 'Narrows a cap to the impressions and candidates that match every field given.' })

export const Cap = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.:-]+$' }),
  per: Type.Union([Type.Literal('user'), Type.Literal('category'), Type.Literal('campaign'), Type.Literal('placement')], {
    description: '`user`: all marketing pop-ups of the user; otherwise counted per category, campaign or placement (the undeclared placements together count as one, `other`).'
  }),
  limit: Type.Integer({ minimum: 0, maximum: 1000 }),
  window: Type.Union([Duration, Type.Literal('calendarDay')], {
    description: 'A rolling window (`1h`, `1d`, `7d`, `30d`) or `calendarDay` in the user\'s time zone.'
  }),
  match: Type.Optional(CapMatch),
  reserve: Type.Optional(Type.Object({
    slots: Type.Integer({ minimum: 0, maximum: 1000 }),
    minPriority: Type.Integer({ minimum: 0, maximum: 100 })
  }, { additionalProperties: false, description: 'The last `slots` of the cap are kept for campaigns of at least `minPriority`.' })),
  mode: Type.Optional(RuleMode)
}, {
  additionalProperties: false,
  // Named in the contract without an `$id`: a policy holds caps in two places, and Ajv refuses an `$id` twice in one schema.
  'x-component': 'Cap',
  description: 'At most `limit` marketing impressions per `window`, counted per user or narrower.'
})

export type Cap = Static<typeof Cap>

export const StoreFailureAnswer = Type.Union([Type.Literal('allow'), Type.Literal('suppress')])

export const Policy = Type.Object({
  defaultTimezone: Type.String({ minLength: 1, maxLength: 64, description: 'IANA time zone used when a request names none.' }),
  placements: Type.Optional(Type.Array(PlacementName, {
    maxItems: MAX_PLACEMENTS,
    uniqueItems: true,
    description: 'The placements clients use, e.g. `home_banner`. Any other placement a client sends counts as `other` (in caps, reports, metrics and logs); without this list every placement is `other`.'
  })),
  caps: Type.Array(Cap, { maxItems: 50 }),
  cooldown: Type.Optional(Type.Union([Duration, Type.Object({ duration: Duration, mode: RuleMode }, { additionalProperties: false })], {
    description: 'Least time between two marketing pop-ups of a user: a duration, or `{duration, mode}` to run it in shadow mode.'
  })),
  quietHours: Type.Optional(Type.Object({ start: ClockTime, end: ClockTime, mode: Type.Optional(RuleMode) }, { additionalProperties: false })),
  doNotInterrupt: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 50 })),
  fatigue: Type.Optional(Type.Object({
    dismissals: Type.Integer({ minimum: 1, maximum: 100 }),
    within: Duration,
    backoff: Duration,
    mode: Type.Optional(RuleMode)
  }, { additionalProperties: false })),
  reservation: Type.Optional(Type.Object({
    lease: Duration,
    unconfirmed: Type.Union([Type.Literal('count'), Type.Literal('release')])
  }, { additionalProperties: false })),
  holdout: Type.Optional(Type.Object({
    percent: Type.Number({ minimum: 0, maximum: 50 }),
    salt: Type.String({ minLength: 1, maxLength: 64 })
  }, { additionalProperties: false })),
  health: Type.Optional(Type.Object({
    minImpressions: Type.Integer({ minimum: 1, maximum: 100_000_000, description: 'Confirmed impressions in the window before the rule judges a campaign.' }),
    window: Type.String({ pattern: '^[1-9][0-9]?d$', description: 'Report days looked at, today included, e.g. `7d` (1-99 days).' }),
    complaintRate: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1, description: 'complained / shown at or above which the campaign is penalised.' })),
    dismissRate: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1, description: 'dismissed / shown at or above which the campaign is penalised.' })),
    action: Type.Union([Type.Literal('limit'), Type.Literal('suspend')]),
    caps: Type.Optional(Type.Array(Cap, { maxItems: 20, description: 'For `limit`: the caps the penalty adds (default: once a week per user).' })),
    duration: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,2}d$', description: 'How long the automatic penalty lasts; until lifted when absent.' }))
  }, { additionalProperties: false, description: 'Automatic penalties for marketing campaigns that users complain about or dismiss too often.' })),
  categories: Type.Optional(Type.Record(Type.String({ pattern: '^.{1,64}$' }), Type.Object({
    name: Type.String({ minLength: 1, maxLength: 100, description: 'What users are shown, in English.' }),
    names: Type.Optional(Type.Record(Type.String({ pattern: '^[a-z]{2}(-[A-Za-z]{2,4})?$' }), Type.String({ minLength: 1, maxLength: 100 }), {
      additionalProperties: false, maxProperties: 10, description: 'The name in other languages, by language tag, e.g. `{"zh-Hans": "贷款"}`.'
    })),
    reason: Type.Optional(Type.String({ minLength: 1, maxLength: 300, description: 'For a category of service or critical messages: why users cannot switch it off.' }))
  }, { additionalProperties: false }), {
    additionalProperties: false,
    maxProperties: 100,
    description: 'Display names of campaign categories for the preference centre (`GET /preferences`); a category without one is shown by its id.'
  })),
  mode: Type.Union([Type.Literal('enforce'), Type.Literal('shadow')]),
  onStoreFailure: Type.Object({
    marketing: StoreFailureAnswer,
    service: StoreFailureAnswer,
    critical: StoreFailureAnswer
  }, { additionalProperties: false })
}, { additionalProperties: false, $id: 'Policy' })
export type Policy = Static<typeof Policy>

export const CampaignClass = Type.Union([Type.Literal('critical'), Type.Literal('service'), Type.Literal('marketing')])
export type CampaignClass = Static<typeof CampaignClass>

export const Campaign = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.:-]+$' }),
  name: Type.String({ minLength: 1, maxLength: 200 }),
  class: CampaignClass,
  category: Type.String({ minLength: 1, maxLength: 64 }),
  priority: Type.Integer({ minimum: 0, maximum: 100 }),
  status: Type.Union([Type.Literal('active'), Type.Literal('paused'), Type.Literal('suspended')]),
  startsAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  endsAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  caps: Type.Array(Cap, { maxItems: 20 })
}, { additionalProperties: false, $id: 'Campaign' })
export type Campaign = Static<typeof Campaign>

export const PolicyFile = Type.Object({
  policy: Policy,
  campaigns: Type.Array(Campaign, { maxItems: 10000 })
}, { additionalProperties: false })
export type PolicyFile = Static<typeof PolicyFile>

export const PenaltyAction = Type.Union([Type.Literal('suspend'), Type.Literal('limit')], {
  description: '`suspend`: the campaign decides as `campaign_inactive`; `limit`: its extra `caps` apply.'
})

/** A compliance penalty on one campaign, kept apart from the campaign so replacing it never lifts the penalty. */
export const Penalty = Type.Object({
  action: PenaltyAction,
  reason: Type.String({ minLength: 1, maxLength: 500, description: 'Why: shown in the audit trail.' }),
  until: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'When the penalty ends by itself; null: until lifted.' }),
  caps: Type.Array(Cap, { maxItems: 20, description: 'For `limit`: the stricter caps added to the campaign\'s.' }),
  at: Type.String({ format: 'date-time', description: 'When it was applied.' }),
  by: Type.String({ description: 'The API key that applied it.' })
}, { additionalProperties: false })
export type Penalty = Static<typeof Penalty>
