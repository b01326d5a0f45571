import { Type, type Static, type TSchema } from '@sinclair/typebox'
import { Campaign, Cap, Penalty, PenaltyAction, Policy } from '../rules/policy/schema.js'

const When = Type.String({ format: 'date-time', description: 'An ISO 8601 instant.' })
const KeyName = Type.String({ description: 'The name of the API key that acted (`boot`: seeded from the policy file; `restore`: an instance wrote back the configuration the store had lost).' })

/** Far past the longest list (the audit trail keeps 10,000 entries): a bound, so no store sees 1e21. */
const MAX_OFFSET = 100_000

export const Paging = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: 200, default: 50, description: 'At most this many items.' }),
  offset: Type.Integer({ minimum: 0, maximum: MAX_OFFSET, default: 0, description: 'Items to skip: the `nextOffset` of the previous page.' })
}, { additionalProperties: false })

export const Paged = <T extends TSchema>(item: T, description: string) => Type.Object({
  items: Type.Array(item, { description }),
  nextOffset: Type.Union([Type.Integer(), Type.Null()], { description: 'Pass as `offset` for the next page; null on the last page.' })
})

export const StoredPolicyBody = Type.Object({
  version: Type.Integer({ minimum: 1, description: 'The policy version: decisions report it, `ETag` carries it (`"3"`), `If-Match` compares it.' }),
  document: Policy,
  updatedAt: When,
  updatedBy: KeyName
}, { $id: 'StoredPolicy' })

/** `*`, or a list of entity tags (`"3"`, `W/"3"` or a bare `3` for the policy's version). */
const ENTITY_TAGS = '^\\s*(\\*|((W/)?"[^",]*"|[0-9A-Za-z_-]{1,64})(\\s*,\\s*((W/)?"[^",]*"|[0-9A-Za-z_-]{1,64}))*)\\s*$'
const ChangeReason = Type.Optional(Type.String({ minLength: 1, maxLength: 500, description: 'Why: written to the audit trail.' }))
const IfMatch = Type.Optional(Type.String({
  maxLength: 1024,
  pattern: ENTITY_TAGS,
  description: 'Required: the `ETag` read, or `*` (whatever exists now). Without it 428; when the record changed since, 412.'
}))

export const IfMatchHeaders = Type.Object({ 'if-match': IfMatch })

export const AdminWriteHeaders = Type.Object({ 'if-match': IfMatch, 'x-change-reason': ChangeReason })

export const CampaignPutHeaders = Type.Object({
  'if-match': Type.Optional(Type.String({
    maxLength: 1024,
    pattern: ENTITY_TAGS,
    description: 'To replace: the campaign\'s `ETag` read, or `*` (whatever exists now); 412 when it changed since or does not exist.'
  })),
  'if-none-match': Type.Optional(Type.Literal('*', { description: 'To create: `*`; 412 when the campaign exists. One of the two headers is required (428).' })),
  'x-change-reason': ChangeReason
})

export const Changes = Type.Array(Type.String(), { description: 'JSON pointers of what changed (at most 50).' })

export const PolicyHistoryItem = Type.Object({
  version: Type.Integer(),
  at: When,
  by: KeyName,
  reason: Type.Union([Type.String(), Type.Null()]),
  changes: Changes,
  document: Policy
}, { $id: 'PolicyVersion' })

export const CampaignIdParams = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.:-]+$', description: 'The campaign id.' })
})

export const PenaltyView = Type.Object({
  ...Penalty.properties,
  inForce: Type.Boolean({ description: 'false once `until` has passed.' })
})

export const CampaignView = Type.Object({
  campaign: Campaign,
  penalty: Type.Union([PenaltyView, Type.Null()], { description: 'The compliance penalty, if any (kept after `until` passes, with `inForce: false`).' }),
  effectiveStatus: Type.Union([Type.Literal('active'), Type.Literal('paused'), Type.Literal('suspended')], {
    description: '`suspended` while a suspension penalty is in force, else the campaign\'s own status.'
  }),
  updatedAt: When,
  updatedBy: KeyName,
  etag: Type.String({ description: 'The campaign\'s `ETag` (as the header sends it): changes with the campaign and with its penalty. Send it in `If-Match`.' })
}, { $id: 'CampaignRecord' })

export const CampaignQuery = Type.Object({
  ...Paging.properties,
  status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('paused'), Type.Literal('suspended')], { description: 'Only campaigns whose effective status is this.' })),
  category: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Only campaigns of this category.' }))
}, { additionalProperties: false })

export const PenaltyBody = Type.Object({
  action: PenaltyAction,
  reason: Type.String({ minLength: 1, maxLength: 500, description: 'Why: required, shown in the audit trail.' }),
  until: Type.Optional(Type.String({ format: 'date-time', description: 'When the penalty ends by itself; without it, until lifted.' })),
  caps: Type.Optional(Type.Array(Cap, { maxItems: 20, description: 'For `limit`: the stricter caps added to the campaign\'s.' }))
}, { additionalProperties: false, $id: 'PenaltyRequest' })
export type PenaltyBody = Static<typeof PenaltyBody>

export const AuditItem = Type.Object({
  at: When,
  by: KeyName,
  action: Type.Union(['policy.seed', 'policy.update', 'campaign.create', 'campaign.update', 'campaign.delete', 'penalty.apply', 'penalty.lift',
    'governance.restore'].map((a) => Type.Literal(a))),
  target: Type.String({ description: '`policy`, `campaign:<id>`, or `governance` (a restore of the whole configuration).' }),
  reason: Type.Union([Type.String(), Type.Null()]),
  before: Type.Unknown({ description: 'A summary of the record before: `{version}` for the policy, the record for a campaign or penalty; null when created.' }),
  after: Type.Unknown({ description: 'The same after the change; null when deleted or lifted.' }),
  changes: Changes
}, { $id: 'AuditEntry' })
