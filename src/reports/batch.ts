/**
 * The counts of one flush: hash key suffix (`c:<day>`, `d:<day>`, `e:<day>`) → field → count,
 * and HyperLogLog key suffix (`u:<day>:<cohort>`) → user pseudonyms.
 */
export interface CountBatch {
  hashes: Map<string, Map<string, number>>
  users: Map<string, Set<string>>
}

export const emptyBatch = (): CountBatch => ({ hashes: new Map(), users: new Map() })

export const isEmpty = (b: CountBatch): boolean => b.hashes.size === 0 && b.users.size === 0

export function increment (b: CountBatch, key: string, field: string, by = 1): void {
  let fields = b.hashes.get(key)
  if (fields === undefined) {
    fields = new Map()
    b.hashes.set(key, fields)
  }
  fields.set(field, (fields.get(field) ?? 0) + by)
}

export function addUser (b: CountBatch, key: string, user: string): void {
  let users = b.users.get(key)
  if (users === undefined) {
    users = new Set()
    b.users.set(key, users)
  }
  users.add(user)
}

/** Adds `from` into `into` (a batch that certainly was not applied goes back to the live counts). */
export function mergeInto (into: CountBatch, from: CountBatch): void {
  for (const [key, fields] of from.hashes) for (const [field, n] of fields) increment(into, key, field, n)
  for (const [key, users] of from.users) for (const u of users) addUser(into, key, u)
}
