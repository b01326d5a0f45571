import type { Cohort } from '../decide/types.js'

/**
 * The counts of one flush: hash key suffix (`c:<day>`, `d:<day>`, `e:<day>`) → field → count,
 * and HyperLogLog key suffix (`u:<day>:<cohort>`) → user pseudonyms.
 */
export interface CountBatch {
  hashes: Map<string, Map<string, number>>
  users: Map<string, Set<string>>
}

/** The `d:<day>` field counting a cohort's pseudonyms left out: that day's user count is a lower bound. */
export const USERS_DROPPED = 'udropped'
/**
 * The `d:<day>` field summing, over a cohort's users, the square of the marketing pop-ups each was
 * shown that day: the k-th show of a user adds 2k - 1 (docs/reports.md, "Per-user spread").
 */
export const SHOWN_SQUARES = 'mshownsq'

/** The `d:<day>` fields `prefs|<change>` and `prefs|via:<source>` count users' preference changes. */
export const PREFERENCES_COUNTS = 'prefs'

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

const usersKey = (day: string, cohort: Cohort): string => `u:${day}:${cohort}`
function dayAndCohort (key: string): [string, Cohort] {
  const [, day = '', cohort = 'treated'] = key.split(':')
  return [day, cohort as Cohort]
}

/**
 * Adds a user to the day's distinct users of a cohort unless `max` are already waiting for a flush
 * (the store is away): then the user is left out, counted in `d:<day>` as USERS_DROPPED, and
 * false is returned.
 */
export function addUser (b: CountBatch, day: string, cohort: Cohort, user: string, max: number): boolean {
  const key = usersKey(day, cohort)
  let users = b.users.get(key)
  if (users === undefined) {
    users = new Set()
    b.users.set(key, users)
  }
  if (users.size >= max && !users.has(user)) {
    increment(b, 'd:' + day, `${cohort}|${USERS_DROPPED}`)
    return false
  }
  users.add(user)
  return true
}

/**
 * Adds `from` into `into` (a batch that certainly was not applied goes back to the live counts),
 * keeping at most `max` users per key; returns how many users were left out.
 */
export function mergeInto (into: CountBatch, from: CountBatch, max: number): number {
  let dropped = 0
  for (const [key, fields] of from.hashes) for (const [field, n] of fields) increment(into, key, field, n)
  for (const [key, users] of from.users) {
    const [day, cohort] = dayAndCohort(key)
    for (const u of users) if (!addUser(into, day, cohort, u, max)) dropped++
  }
  return dropped
}

/** Pseudonyms a batch holds. */
export const userCount = (b: CountBatch): number => [...b.users.values()].reduce((n, users) => n + users.size, 0)
