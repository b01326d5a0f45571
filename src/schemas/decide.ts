import { Type, type Static } from '@sinclair/typebox'
import { REASONS } from '../rules/decide/types.js'
import { UserId } from './common.js'

const Name = (description: string) => Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.:-]+$', description })

export const DecideBody = Type.Object({
  userId: UserId,
  placement: Name('Where the pop-up would appear, e.g. `home_banner`.'),
  candidates: Type.Array(Type.Object({
    campaignId: Name('A campaign registered in popguard; its class, category and priority come from the registry.')
  }, { additionalProperties: false }), { minItems: 1, maxItems: 20, description: 'Campaigns competing for one slot, in the client\'s order of preference.' }),
  requestId: Type.Optional(Type.String({
    minLength: 1,
    maxLength: 64,
    pattern: '^[A-Za-z0-9_.:-]+$',
    description: 'Idempotency key: the same user and requestId within 10 minutes get the first answer again, counted once.'
  })),
  context: Type.Optional(Type.Object({
    timezone: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'IANA time zone of the user; the policy default otherwise.' })),
    activity: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'What the user is doing, e.g. `checkout`; some activities are never interrupted.' })),
    platform: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })),
    sessionId: Type.Optional(Type.String({ minLength: 1, maxLength: 128 }))
  }, { additionalProperties: false }))
}, { additionalProperties: false, $id: 'DecideRequest', description: 'One slot, one user, 1-20 candidates: which one to show, if any.' })
export type DecideBody = Static<typeof DecideBody>

export const CandidateAnswer = Type.Object({
  campaignId: Type.String(),
  allowed: Type.Boolean({ description: 'True for the one candidate to show.' }),
  reason: Type.Union(REASONS.map((r) => Type.Literal(r)), { description: 'The rule that decided this candidate; `eligible` for the one shown.' }),
  capId: Type.Optional(Type.String({ description: 'The first cap that failed, with reason `cap_exceeded`.' })),
  retryAfterSeconds: Type.Optional(Type.Integer({ minimum: 1, description: 'When the candidate can be eligible again, where that can be known.' })),
  enforced: Type.Optional(Type.Literal(false, { description: 'Present when the rule was evaluated but not applied (shadow mode or holdout cohort).' }))
}, { $id: 'CandidateVerdict', description: 'What the rules said of one candidate.' })

export const DecideAnswer = Type.Object({
  decisionId: Type.String({ description: 'Names this decision in later events.' }),
  show: Type.Union([Type.Object({ campaignId: Type.String() }), Type.Null()], { description: 'The campaign to show, or null: show nothing.' }),
  candidates: Type.Array(CandidateAnswer),
  policyVersion: Type.Integer(),
  mode: Type.Union([Type.Literal('enforce'), Type.Literal('shadow')]),
  cohort: Type.Union([Type.Literal('treated'), Type.Literal('holdout')])
}, { $id: 'DecideResponse', description: 'The campaign to show (or null), and every candidate\'s verdict.' })
