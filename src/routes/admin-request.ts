import type { FastifyRequest } from 'fastify'
import type { Actor } from '../governance/service.js'

/** The acting key's name and the optional `X-Change-Reason`, for the audit trail. */
export function actorOf (request: FastifyRequest): Actor {
  const reason = request.headers['x-change-reason']
  return { by: request.apiKey?.name ?? 'unknown', reason: typeof reason === 'string' && reason !== '' ? reason : null }
}

/** `If-Match: "3"` (or `W/"3"`, `3`) as a version; `*` as none; anything else as a version nothing matches. */
export function ifMatchVersion (header: string | undefined): number | undefined {
  if (header === undefined || header.trim() === '*') return undefined
  const match = /^\s*(?:W\/)?"?(\d{1,15})"?\s*$/.exec(header)
  return match?.[1] === undefined ? -1 : Number(match[1])
}

export const etagOf = (version: number): string => `"${version}"`
