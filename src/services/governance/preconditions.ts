import { createHash } from 'node:crypto'

/**
 * What an admin write requires of the record's current state (RFC 9110 `If-Match`,
 * `If-None-Match`), compared with the ETag of what the write read, inside its compare-and-set.
 */
export interface Preconditions {
  /** `*`: the record must exist; a list: its current ETag must be one of them. */
  ifMatch?: '*' | string[]
  /** `*`: the record must not exist (a create); a list: its current ETag must be none of them. */
  ifNoneMatch?: '*' | string[]
}

/** Whether the preconditions hold for a record whose ETag is `current` (null: there is none). */
export function preconditionsHold (p: Preconditions, current: string | null): boolean {
  if (p.ifMatch !== undefined && (current === null || (p.ifMatch !== '*' && !p.ifMatch.includes(current)))) return false
  if (p.ifNoneMatch !== undefined && current !== null && (p.ifNoneMatch === '*' || p.ifNoneMatch.includes(current))) return false
  return true
}

/** The policy's ETag: its version. */
export const policyEtag = (version: number): string => `"${version}"`

/** A campaign's ETag: a strong hash of its stored record and its penalty, so a penalty change changes it. */
export function campaignEtag (campaignRaw: string, penaltyRaw: string | null): string {
  const hash = createHash('sha256').update(campaignRaw).update('\n').update(penaltyRaw ?? '').digest('base64url')
  return `"${hash.slice(0, 22)}"`
}
