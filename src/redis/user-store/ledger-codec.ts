import { CODE_LENGTH } from '../../rules/decide/codes.js'
import { BASE36_WIDTH, NONCE_LENGTH } from '../../rules/decide/limits.js'
import type { Impression } from '../../rules/decide/user-state.js'
import type { LoggedEvent } from '../../rules/events/apply.js'

/**
 * A ledger entry as decide.lua stores it: fixed width, no separators.
 * ts (8, base36 ms) | state (1) | class (1) | campaign (6) | category (6) | placement (6) | nonce (8)
 */
export const RECORD_LENGTH = BASE36_WIDTH + 1 + 1 + 3 * CODE_LENGTH + NONCE_LENGTH
/** An applied event in the dedupe log (events.lua): ts (8, base36 ms) | type (1) | nonce (8). */
export const EVENT_LOG_RECORD_LENGTH = BASE36_WIDTH + 1 + NONCE_LENGTH

export function decodeLedger (raw: string): Impression[] {
  const out: Impression[] = []
  for (let p = 0; p + RECORD_LENGTH <= raw.length; p += RECORD_LENGTH) {
    out.push({
      ts: parseInt(raw.slice(p, p + 8), 36),
      state: raw[p + 8] as Impression['state'],
      classCode: raw[p + 9] as Impression['classCode'],
      campaignCode: raw.slice(p + 10, p + 16),
      categoryCode: raw.slice(p + 16, p + 22),
      placementCode: raw.slice(p + 22, p + 28),
      nonce: raw.slice(p + 28, p + 36)
    })
  }
  return out
}

export function decodeEventLog (raw: string): LoggedEvent[] {
  const out: LoggedEvent[] = []
  for (let p = 0; p + EVENT_LOG_RECORD_LENGTH <= raw.length; p += EVENT_LOG_RECORD_LENGTH) {
    out.push({ ts: parseInt(raw.slice(p, p + BASE36_WIDTH), 36), t: raw[p + BASE36_WIDTH] ?? '', n: raw.slice(p + BASE36_WIDTH + 1, p + EVENT_LOG_RECORD_LENGTH) })
  }
  return out
}

/** When an idempotency record (base36 expiry | nonce | outcome JSON, decide.lua) stops counting, ms. */
export function decodeReplyExpiry (raw: string): number {
  return parseInt(raw.slice(0, BASE36_WIDTH), 36)
}
