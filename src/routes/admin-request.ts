import type { FastifyRequest } from 'fastify'
import { PreconditionRequiredError } from '../errors.js'
import type { Preconditions } from '../services/governance/preconditions.js'
import type { Actor } from '../services/governance/governance-service.js'

/** The acting key's name and the optional `X-Change-Reason`, for the audit trail. */
export function actorOf (request: FastifyRequest): Actor {
  const reason = request.headers['x-change-reason']
  return { by: request.apiKey?.name ?? 'unknown', reason: typeof reason === 'string' && reason !== '' ? reason : null }
}

/**
 * An entity-tag list as the header schema admits it: `*`, or tags such as `"3"`. A weak tag
 * (`W/"3"`) or a bare version (`3`) names the same tag: this service issues strong tags only.
 */
function entityTags (header: string): '*' | string[] {
  if (header.trim() === '*') return '*'
  return header.split(',').map((t) => t.trim().replace(/^W\//, '')).filter((t) => t !== '')
    .map((t) => t.startsWith('"') ? t : `"${t}"`)
}

const single = (value: string | string[] | undefined): string | undefined => Array.isArray(value) ? value.join(',') : value

/**
 * The preconditions of an admin write: `If-Match` (the ETag read, or `*`), or for a create
 * `If-None-Match: *`. Without one it is refused (428): a write must say what it overwrites.
 */
export function preconditionsOf (request: FastifyRequest, { canCreate = false } = {}): Preconditions {
  const ifMatch = single(request.headers['if-match'])
  const ifNoneMatch = single(request.headers['if-none-match'])
  const pre: Preconditions = {
    ...(ifMatch === undefined ? {} : { ifMatch: entityTags(ifMatch) }),
    ...(ifNoneMatch === undefined ? {} : { ifNoneMatch: entityTags(ifNoneMatch) })
  }
  if (pre.ifMatch === undefined && !(canCreate && pre.ifNoneMatch === '*')) {
    throw new PreconditionRequiredError(canCreate
      ? 'send If-Match with the ETag you read (or *: whatever exists), or If-None-Match: * to create'
      : 'send If-Match with the ETag you read (or *: whatever exists now)')
  }
  return pre
}
