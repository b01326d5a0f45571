import type { Impression } from '../../rules/decide/user-state.js'

/**
 * A ledger entry as decide.lua stores it: fixed width, no separators.
 * ts (8, base36 ms) | state (1) | class (1) | campaign (6) | category (6) | placement (6) | nonce (8)
 */
export const RECORD_LENGTH = 36
/** An applied event in the dedupe log (events.lua): ts (8, base36 ms) | type (1) | nonce (8). */
export const EVENT_LOG_RECORD_LENGTH = 17

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
