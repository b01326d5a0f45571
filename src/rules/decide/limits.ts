/**
 * How much one user's state may hold, and the timestamp encoding it is stored in. The Lua
 * scripts use the same numbers: src/redis/user-store/scripts.ts writes them in front of every script,
 * so each is defined here only.
 */

/** Impression ledger records kept per user (36 bytes each); beyond, the oldest service/critical go first. */
export const MAX_LEDGER_RECORDS = 256
/** Applied events remembered per user for dedupe (17 bytes each); beyond, the oldest are forgotten. */
export const MAX_EVENT_LOG_RECORDS = 512
/** Idempotency records per user; the one that would exceed it prunes the hash to the newest REPLIES_KEPT. */
export const MAX_REPLIES = 64
export const REPLIES_KEPT = 32

/** A decision's nonce: the first characters of its id, kept in its ledger record and in the events that name it. */
export const NONCE_LENGTH = 8
export const decisionNonce = (decisionId: string): string => decisionId.slice(0, NONCE_LENGTH)

/** Width of a stored timestamp: 8 base-36 digits, ms since 1970, up to 36^8 - 1 (the year 2059). */
export const BASE36_WIDTH = 8
export const BASE36_MAX = 36 ** BASE36_WIDTH - 1

/** A ms timestamp as BASE36_WIDTH digits, clamped to 0..BASE36_MAX (the twin of ledger-lib.lua's base36). */
export function base36 (n: number): string {
  const clamped = Number.isFinite(n) ? Math.min(Math.max(Math.floor(n), 0), BASE36_MAX) : 0
  return clamped.toString(36).padStart(BASE36_WIDTH, '0')
}

/**
 * Keeps at most MAX_LEDGER_RECORDS, dropping first the oldest records that are not marketing (no cap
 * counts them), then the oldest of the rest; the last record (the one just added) is never dropped.
 * Records are in the order they were recorded.
 */
export function capLedger<T extends { classCode: string }> (ledger: T[]): T[] {
  let excess = ledger.length - MAX_LEDGER_RECORDS
  if (excess <= 0) return ledger
  const dropped = new Set<number>()
  for (let i = 0; i < ledger.length - 1 && excess > 0; i++) {
    if ((ledger[i] as T).classCode !== 'm') { dropped.add(i); excess-- }
  }
  return ledger.filter((_, i) => {
    if (dropped.has(i)) return false
    if (excess > 0) { excess--; return false }
    return true
  })
}
