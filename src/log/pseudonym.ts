import { createHmac, createSecretKey } from 'node:crypto'

/** A stable pseudonym for a user id in logs: HMAC-SHA256 with POPGUARD_LOG_KEY, never the id itself. */
export function pseudonymizer (logKey: string): (userId: string) => string {
  // One KeyObject for every call: a string key would be re-imported on each HMAC.
  const key = createSecretKey(Buffer.from(logKey, 'utf8'))
  return (userId) => createHmac('sha256', key).update(userId).digest('base64url').slice(0, 22)
}
