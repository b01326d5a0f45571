import { createHash, hash } from 'node:crypto'

/**
 * Short, stable codes for campaign, category and placement names, as stored in a
 * user's impression ledger: fixed width keeps the ledger small and the Lua simple.
 * 36 bits: a collision between two names seen by one user is vanishingly rare.
 */
export const CODE_LENGTH = 6

const cache = new Map<string, string>()

export function nameCode (kind: 'campaign' | 'category' | 'placement', name: string): string {
  const key = kind + '\0' + name
  let code = cache.get(key)
  if (code === undefined) {
    code = createHash('sha256').update(key).digest('base64url').slice(0, CODE_LENGTH)
    if (cache.size > 50_000) cache.clear()
    cache.set(key, code)
  }
  return code
}

/** The user's hash tag: every key of one user lands in one Redis Cluster slot. */
export function userTag (userId: string): string {
  return hash('sha256', userId, 'base64url').slice(0, 16)
}
