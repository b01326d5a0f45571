import { createHash, createHmac, createSecretKey, hkdfSync } from 'node:crypto'

/**
 * Short, stable codes for campaign, category and placement names, as stored in a
 * user's impression ledger: fixed width keeps the ledger small and the Lua simple.
 * 36 bits: a collision between two names seen by one user is vanishingly rare.
 */
export const CODE_LENGTH = 6

type CodeKind = 'campaign' | 'category' | 'placement'
/** One map per kind: a lookup builds no key string (plans look up a few codes per cap per candidate). */
const caches: Record<CodeKind, Map<string, string>> = { campaign: new Map(), category: new Map(), placement: new Map() }

export function nameCode (kind: CodeKind, name: string): string {
  const cache = caches[kind]
  let code = cache.get(name)
  if (code === undefined) {
    code = createHash('sha256').update(kind + '\0' + name).digest('base64url').slice(0, CODE_LENGTH)
    if (cache.size > 50_000) cache.clear()
    cache.set(name, code)
  }
  return code
}

/** Names the derived key: the same secret gives log pseudonyms and user tags that cannot be told from one another. */
const USER_TAG_KEY_INFO = 'popguard user tag v1'

/**
 * The user's tag in store keys (`{u:<tag>}`: every key of one user in one Redis Cluster slot):
 * HMAC-SHA256 with a key derived (HKDF) from `secret`, so a user id cannot be found back from a
 * key, nor a user's keys from the id, without the secret. 96 bits: no collisions among real users.
 */
export function userTagger (secret: string): (userId: string) => string {
  // Derived once; one KeyObject for every call (a string key would be re-imported on each HMAC).
  const key = createSecretKey(Buffer.from(hkdfSync('sha256', secret, '', USER_TAG_KEY_INFO, 32)))
  return (userId) => createHmac('sha256', key).update(userId).digest('base64url').slice(0, 16)
}
