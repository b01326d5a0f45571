import type { components } from './generated/openapi.js'

type Schemas = components['schemas']

export type DecideRequest = Schemas['DecideRequest']
export type DecideResponse = Schemas['DecideResponse']
export type CandidateVerdict = Schemas['CandidateVerdict']
export type Event = Schemas['Event']
export type EventType = Event['type']
export type EventsRequest = Schemas['EventsRequest']
export type EventsResponse = Schemas['EventsResponse']
export type Preferences = Schemas['Preferences']
export type PreferencesRequest = Schemas['PreferencesRequest']
export type ErrorBody = Schemas['Error']
export type { components, paths, operations } from './generated/openapi.js'

/**
 * Why a decision says what it says. `decided`: popguard answered (its `show` may still be null).
 * The others mean popguard could not be asked, so marketing shows nothing: `timeout`,
 * `network_error`, `unavailable` (503), `server_error` (other 5xx), `refused` (a 4xx: a bug or
 * bad credentials, see `error`), `token_error` (the end-user token could not be had).
 */
export type DecisionReason = 'decided' | 'timeout' | 'network_error' | 'unavailable' | 'server_error' | 'refused' | 'token_error'

export interface Decision {
  /** The campaign to show, or null: show nothing. */
  show: { campaignId: string } | null
  reason: DecisionReason
  /** Names the decision in events; absent when popguard did not answer. */
  decisionId?: string
  /** The user the decision is for (events need it). */
  userId: string
  /** popguard's whole answer, when it answered. */
  answer?: DecideResponse
  /** The HTTP status of the last attempt, when there was one. */
  status?: number
  /** popguard's error body for `refused` and the 5xx reasons, when it sent one. */
  error?: ErrorBody
  /** The id of the request (`requestId` and `X-Request-Id`), the same on every attempt. */
  requestId: string
  attempts: number
}
