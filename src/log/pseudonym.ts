import { createHmac } from 'node:crypto'

/** A stable pseudonym for a user id in logs: HMAC-SHA256 with POPGUARD_LOG_KEY, never the id itself. */
export function pseudonymizer (logKey: string): (userId: string) => string {
  return (userId) => createHmac('sha256', logKey).update(userId).digest('base64url').slice(0, 22)
}
