/**
 * Key layout. Every key of one user carries the user's hash tag, so one Lua script
 * may touch them all, on a standalone Redis or in one Redis Cluster slot. A user has
 * these six keys and no other, so erasure names them all without looking.
 */
export const KEY_PREFIX = 'pg:v1:'

export interface UserKeys {
  /** Impression ledger (string). */
  ledger: string
  /** Preferences (hash). */
  prefs: string
  /** Fatigue (hash). */
  fatigue: string
  /** Applied events, for dedupe (string). */
  events: string
  /** Idempotency records, one field per requestId (hash). */
  replies: string
  /** Changes of the user's preferences, newest first, bounded (list of JSON records). */
  history: string
}

/** Every key of one user starts with this. */
export function userBase (prefix: string, tag: string): string {
  return `${prefix}{u:${tag}}:`
}

export function userKeys (prefix: string, tag: string): UserKeys {
  const base = userBase(prefix, tag)
  return { ledger: base + 'l', prefs: base + 'p', fatigue: base + 'f', events: base + 'e', replies: base + 'q', history: base + 'h' }
}
