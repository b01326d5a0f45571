import { Type, type Static } from '@sinclair/typebox'
import { EVENT_TYPES } from '../rules/events/types.js'
import { UserId } from './common.js'

export const MAX_EVENTS = 500

export const ClientEvent = Type.Object({
  decisionId: Type.String({ format: 'uuid', description: 'The `decisionId` of the decision that showed (or reserved) the campaign.' }),
  userId: UserId,
  campaignId: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.:-]+$', description: 'The campaign the decision allowed.' }),
  type: Type.Union(EVENT_TYPES.map((t) => Type.Literal(t)), {
    description: '`shown` confirms the reserved impression, `discarded` releases it (not rendered); `dismissed`, `clicked`, ' +
      '`converted` and `complained` feed fatigue: repeated dismissals back a campaign off, a complaint stops it for the user.'
  }),
  at: Type.Optional(Type.String({
    format: 'date-time',
    description: 'When it happened: at most 30 days before and 5 minutes after the time of receipt (else 400 naming it); ' +
      'the time of receipt if absent or later. A leap second (`23:59:60`) is refused.'
  }))
}, { additionalProperties: false, $id: 'Event', description: 'What happened to a pop-up a decision allowed.' })

export const EventsBody = Type.Object({
  events: Type.Array(ClientEvent, { minItems: 1, maxItems: MAX_EVENTS, description: `1 to ${MAX_EVENTS} events; a batch with one invalid event is refused whole.` })
}, { additionalProperties: false, $id: 'EventsRequest', description: 'A batch of events, of one or many users.' })
export type EventsBody = Static<typeof EventsBody>

export const EventsAnswer = Type.Object({
  accepted: Type.Integer({ description: 'Events counted now.' }),
  rejected: Type.Array(Type.Object({
    index: Type.Integer({ description: 'Position of the event in the batch.' }),
    reason: Type.Union(['duplicate', 'unknown_decision', 'lease_expired', 'already_shown', 'unavailable'].map((r) => Type.Literal(r)), {
      description: '`duplicate`: already counted; `unknown_decision`: no impression of this campaign by this decision for this user; ' +
        '`lease_expired`: the reservation was already settled by the policy\'s lease; `already_shown`: a shown impression cannot be discarded; ' +
        '`unavailable`: the store did not answer, send it again.'
    })
  }), { description: 'Events not counted, each with why.' })
}, { $id: 'EventsResponse', description: 'How many events were counted, and why the others were not.' })
