/**
 * Key layout. Every key of one user carries the user's hash tag, so one Lua script
 * may touch them all, on a standalone Redis or in one Redis Cluster slot.
 */
export const KEY_PREFIX = 'pg:v1:'

/** The keys decide.lua takes: ledger, preferences, fatigue, and the request id's idempotency record. */
export function userKeys (prefix: string, tag: string, requestId: string): [string, string, string, string] {
  const { ledger, prefs, fatigue } = knownUserKeys(prefix, tag)
  return [ledger, prefs, fatigue, userBase(prefix, tag) + 'q:' + requestId]
}

/** Every key of one user starts with this. */
export function userBase (prefix: string, tag: string): string {
  return `${prefix}{u:${tag}}:`
}

/** The user's keys an event or an erasure names: ledger, preferences, fatigue, dedupe log. */
export function knownUserKeys (prefix: string, tag: string): { ledger: string, prefs: string, fatigue: string, events: string } {
  const base = userBase(prefix, tag)
  return { ledger: base + 'l', prefs: base + 'p', fatigue: base + 'f', events: base + 'e' }
}

/** A SCAN MATCH pattern for every key of one user (glob characters in the prefix escaped). */
export function userKeyPattern (prefix: string, tag: string): string {
  return userBase(prefix, tag).replace(/[*?[\\]/g, '\\$&') + '*'
}
