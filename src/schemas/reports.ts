import { Type, type Static } from '@sinclair/typebox'

const Day = Type.String({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$', description: 'A calendar day, `YYYY-MM-DD`, in the policy\'s default time zone.' })
const Rate = Type.Union([Type.Number(), Type.Null()])
const Counts = Type.Record(Type.String(), Type.Integer(), { description: 'Counts by reason.' })

export const ReportRange = Type.Object({
  from: Day,
  to: Day
}, { additionalProperties: false })
export type ReportRange = Static<typeof ReportRange>

export const CampaignReportQuery = Type.Object({
  from: Day,
  to: Day,
  category: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Only campaigns of this category.' })),
  status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('paused'), Type.Literal('suspended')], { description: 'Only campaigns with this status now.' }))
}, { additionalProperties: false })
export type CampaignReportQuery = Static<typeof CampaignReportQuery>

const Cohort = Type.Object({
  users: Type.Integer({ description: 'Distinct users who asked for a decision (summed per day over a range: user-days); a HyperLogLog estimate in Redis.' }),
  shown: Type.Integer({ description: 'Marketing pop-ups confirmed shown.' }),
  shownSquared: Type.Integer({ description: 'Σ over users of (marketing pop-ups shown to the user that day)², counted exactly: the spread behind the interval.' }),
  perUser: Rate,
  sdPerUser: Type.Union([Type.Number(), Type.Null()], { description: 'Standard deviation of marketing pop-ups shown per user (per user-day over a range).' }),
  usersDropped: Type.Integer({
    description: 'Users left out of `users` because the store was away too long (POPGUARD_REPORTS_MAX_PENDING_USERS): above 0, `users` is a lower bound and `perUser` an upper one.'
  })
})

const Interval = Type.Object({ low: Type.Number(), high: Type.Number() })

const Holdout = Type.Object({
  treated: Cohort,
  holdout: Cohort,
  reduction: Type.Union([Type.Number(), Type.Null()], { description: '1 - treated per user / holdout per user.' }),
  ci95: Type.Union([Interval, Type.Null()], {
    description: '95% confidence interval of the reduction, from each cohort\'s per-user spread (delta method on the log rate ratio; docs/reports.md).'
  }),
  standardError: Type.Union([Type.Number(), Type.Null()], { description: 'Standard error of log(treated per user / holdout per user).' }),
  caveat: Type.Union([Type.Literal('few_users'), Type.Literal('spread_not_recorded'), Type.Null()], {
    description: '`few_users`: a cohort has fewer than 200 users (user-days), where heavy tails make the interval too narrow; `spread_not_recorded`: some day was counted without its per-user spread, so no interval.'
  })
})

const DailySpread = Type.Union([Type.Object({
  days: Type.Integer({ description: 'Days with a daily interval (at least 3).' }),
  reduction: Type.Number({ description: '1 - exp(mean of the daily log rate ratios).' }),
  ci95: Interval,
  q: Type.Number({ description: 'Cochran\'s Q of the daily log rate ratios against their own standard errors (χ² with days - 1 degrees of freedom when the days agree).' }),
  agreement: Type.Union([Type.Literal('agree'), Type.Literal('days_differ'), Type.Literal('users_return')], {
    description: '`days_differ`: Q above its 99th percentile, the reduction moved during the range; `users_return`: below its 1st, the same users come back every day and the pooled interval is too narrow.'
  })
}), Type.Null()], { description: 'The second check of a range: the scatter of its daily reductions (docs/reports.md).' })

const Sizing = Type.Union([Type.Object({
  dailyUsers: Type.Number({ description: 'Distinct users per day in the range, both cohorts.' }),
  cvTreated: Type.Number({ description: 'sd / mean of marketing pop-ups per user per day, treated.' }),
  cvHoldout: Type.Number({ description: 'sd / mean of marketing pop-ups per user per day, holdout.' }),
  reduction: Type.Number({ description: 'The reduction the half-widths assume (the range\'s).' }),
  rows: Type.Array(Type.Object({
    holdoutPercent: Type.Number(),
    days: Type.Integer(),
    halfWidth: Type.Number({ description: 'Expected half-width of the 95% interval, in reduction points (0.05: ±5 points).' })
  }))
}), Type.Null()], { description: 'What other holdout sizes would give, from this range\'s users and spread (docs/reports.md, "Choosing the holdout size").' })

export const DailyReport = Type.Object({
  from: Type.String(),
  to: Type.String(),
  timezone: Type.String({ description: 'The zone the days are counted in.' }),
  days: Type.Array(Type.Object({
    day: Type.String(),
    requested: Type.Integer({ description: 'Candidates named in decisions, all classes.' }),
    decisions: Type.Integer(),
    allowed: Type.Integer({ description: 'Decisions that answered with a pop-up.' }),
    shown: Type.Integer({ description: 'Pop-ups confirmed shown (`shown` events).' }),
    degraded: Type.Integer({ description: 'Decisions answered without the store.' }),
    suppressed: Counts,
    wouldSuppress: Type.Record(Type.String(), Type.Integer(), {
      description: 'Candidates a rule in shadow mode (`"mode": "shadow"`) would have suppressed but did not, by rule: `cap:<cap id>`, `cooldown`, `quiet_hours`, `fatigue`.'
    }),
    marketing: Type.Object({
      requested: Type.Integer({ description: 'Decisions with at least one marketing candidate.' }),
      allowed: Type.Integer(),
      shown: Type.Integer(),
      reduction: Type.Union([Type.Number(), Type.Null()], { description: '1 - shown / requested.' })
    }),
    holdout: Holdout,
    preferences: Type.Object({
      marketingOff: Type.Integer({ description: 'Users who switched all marketing pop-ups off.' }),
      marketingOn: Type.Integer({ description: 'Users who switched them on again.' }),
      categoryOff: Type.Integer({ description: 'Categories switched off (one user switching two counts two).' }),
      categoryOn: Type.Integer(),
      snoozed: Type.Integer({ description: 'Snoozes started or changed.' }),
      snoozeEnded: Type.Integer({ description: 'Snoozes ended early by the user or their app.' }),
      viaPreferenceCenter: Type.Integer({ description: 'Of all these changes, those users made on the preference centre (`GET /preferences`); the rest came through the API.' })
    }, { description: 'Users\' preference changes that day: when campaigns drive people away.' })
  })),
  summary: Type.Object({
    marketingReduction: Rate,
    holdout: Holdout,
    dailySpread: DailySpread,
    sizing: Sizing
  }, { description: 'The range pooled: users are user-days, each treated as an independent draw.' })
}, { $id: 'DailyReport', description: 'Per day: requests, decisions, pop-ups allowed and shown, suppressions by reason, and the two reduction figures.' })

const Penalty = Type.Union([Type.Object({
  action: Type.String(),
  reason: Type.String(),
  until: Type.Union([Type.String(), Type.Null()]),
  by: Type.String()
}), Type.Null()], { description: 'The penalty in force now, if any.' })

export const CampaignReport = Type.Object({
  from: Type.String(),
  to: Type.String(),
  campaigns: Type.Array(Type.Object({
    campaignId: Type.String({ description: '`(unknown)` gathers campaign ids the registry did not know.' }),
    name: Type.Union([Type.String(), Type.Null()], { description: 'The campaign\'s name in the registry (free text: show it as text, never as markup); null for ids the registry does not know.' }),
    class: Type.Union([Type.String(), Type.Null()]),
    category: Type.Union([Type.String(), Type.Null()]),
    status: Type.Union([Type.String(), Type.Null()]),
    requested: Type.Integer(),
    allowed: Type.Integer(),
    shown: Type.Integer(),
    suppressed: Counts,
    dismissed: Type.Integer(),
    clicked: Type.Integer(),
    complained: Type.Integer(),
    converted: Type.Integer(),
    discarded: Type.Integer(),
    dismissRate: Rate,
    complaintRate: Rate,
    penalty: Penalty
  }))
}, { $id: 'CampaignReport', description: 'Per campaign over the range. `Accept: text/csv` gives the same rows as CSV (RFC 4180, header row).' })
