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
  users: Type.Integer({ description: 'Distinct users who asked for a decision (summed per day over a range); a HyperLogLog estimate in Redis.' }),
  shown: Type.Integer({ description: 'Marketing pop-ups confirmed shown.' }),
  perUser: Rate,
  usersDropped: Type.Integer({
    description: 'Users left out of `users` because the store was away too long (POPGUARD_REPORTS_MAX_PENDING_USERS): above 0, `users` is a lower bound and `perUser` an upper one.'
  })
})

const Holdout = Type.Object({
  treated: Cohort,
  holdout: Cohort,
  reduction: Type.Union([Type.Number(), Type.Null()], { description: '1 - treated per user / holdout per user.' }),
  ci95: Type.Union([Type.Object({ low: Type.Number(), high: Type.Number() }), Type.Null()], { description: '95% confidence interval of the reduction (docs/reports.md).' })
})

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
    marketing: Type.Object({
      requested: Type.Integer({ description: 'Decisions with at least one marketing candidate.' }),
      allowed: Type.Integer(),
      shown: Type.Integer(),
      reduction: Type.Union([Type.Number(), Type.Null()], { description: '1 - shown / requested.' })
    }),
    holdout: Holdout
  })),
  summary: Type.Object({ marketingReduction: Rate, holdout: Holdout })
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
