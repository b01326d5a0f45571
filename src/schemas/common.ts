import { Type, type Static } from '@sinclair/typebox'

export const ErrorBody = Type.Object({
  error: Type.String({ description: 'A stable machine-readable code, e.g. `bad_request`, `unauthorized`.' }),
  message: Type.String({ description: 'What went wrong, for a person.' }),
  details: Type.Optional(Type.Array(Type.Object({
    path: Type.String({ description: 'JSON pointer of the field at fault, e.g. `/candidates/0/campaignId`.' }),
    message: Type.String()
  })))
}, { $id: 'Error', description: 'The one error shape of every 4xx and 5xx answer.' })
export type ErrorBody = Static<typeof ErrorBody>

/** Error responses a route declares besides its success answer. */
export function errorResponses<S extends number> (...statuses: S[]): Record<S, typeof ErrorBody> {
  return Object.fromEntries(statuses.map((s) => [s, ErrorBody])) as Record<S, typeof ErrorBody>
}

export const UserId = Type.String({ minLength: 1, maxLength: 256, description: 'The platform\'s user id. Never logged raw; hashed into Redis keys.' })

export const Health = Type.Object({
  status: Type.String({ description: '`ok` (liveness) or `ready` (readiness).' }),
  store: Type.Optional(Type.String({ description: 'The store in use: `redis`, `redis-cluster` or `memory`.' })),
  policyVersion: Type.Optional(Type.Integer({ description: 'The policy version in force.' })),
  governance: Type.Optional(Type.Union([Type.Literal('in_step'), Type.Literal('restoring')], {
    description: '`in_step`: the governance store holds the configuration this instance serves. `restoring`: the store lost it ' +
      '(missing, or older than loaded); this instance serves its last good configuration and writes it back at its next check.'
  }))
}, { $id: 'Health', description: 'This instance is alive, or ready to decide.' })
