/**
 * A user's preferences as the API shows them, and as the store keeps them: the
 * preferences hash that decide.lua reads (marketing, snooze, cat:<name>).
 */
import type { Fatigue, Preferences } from '../decide/user-state.js'
import { ValidationError } from '../errors.js'
import { DAY_MS } from '../time.js'

export type Switch = 'on' | 'off'

export interface PreferencesDoc {
  marketing: Switch
  categories: Record<string, Switch>
  snoozeUntil: string | null
}

export interface PreferencesInput {
  marketing: Switch
  categories?: Record<string, Switch>
  snoozeUntil?: string | null
}

/** Preferences outlive any campaign: kept 400 days after the last change. */
export const PREFERENCES_TTL_MS = 400 * DAY_MS
/** A complaint or backoff is kept as long, refreshed by every event that writes fatigue. */
export const FATIGUE_TTL_MS = 400 * DAY_MS
export const MAX_SNOOZE_MS = 365 * DAY_MS

export const DEFAULT_PREFERENCES: PreferencesDoc = { marketing: 'on', categories: {}, snoozeUntil: null }

/** The hash to store for a PUT; a snooze must end in the future and within a year. */
export function preferencesToHash (input: PreferencesInput, now: number): Record<string, string> {
  const hash: Record<string, string> = { marketing: input.marketing }
  for (const [name, value] of Object.entries(input.categories ?? {})) hash['cat:' + name] = value
  if (input.snoozeUntil !== undefined && input.snoozeUntil !== null) {
    const until = Date.parse(input.snoozeUntil)
    if (!(until > now)) throw new ValidationError('snoozeUntil must be in the future', [{ path: '/snoozeUntil', message: 'must be in the future' }])
    if (until - now > MAX_SNOOZE_MS) {
      throw new ValidationError('snoozeUntil must be at most a year ahead', [{ path: '/snoozeUntil', message: 'must be at most a year ahead' }])
    }
    hash.snooze = String(until)
  }
  return hash
}

/** What GET shows: defaults for a user never seen, a snooze that has ended shown as none. */
export function preferencesFromHash (hash: Record<string, string>, now: number): PreferencesDoc {
  const categories: Record<string, Switch> = {}
  for (const [field, value] of Object.entries(hash)) {
    if (field.startsWith('cat:')) categories[field.slice(4)] = value === 'off' ? 'off' : 'on'
  }
  const snooze = Number(hash.snooze)
  return {
    marketing: hash.marketing === 'off' ? 'off' : 'on',
    categories,
    snoozeUntil: Number.isFinite(snooze) && snooze > now ? new Date(snooze).toISOString() : null
  }
}

/** The preferences hash as the decision rules (src/rules/decide/evaluate.ts) read it. */
export function preferencesForRules (hash: Record<string, string> | undefined): Preferences | null {
  if (hash === undefined) return null
  const snooze = Number(hash.snooze)
  return {
    marketing: hash.marketing === 'off' ? 'off' : 'on',
    categoriesOff: Object.keys(hash).filter((f) => f.startsWith('cat:') && hash[f] === 'off').map((f) => f.slice(4)),
    snoozeUntil: Number.isFinite(snooze) ? snooze : null
  }
}

/** The fatigue hash as the decision rules read it. */
export function fatigueForRules (hash: Record<string, string> | undefined): Fatigue | null {
  if (hash === undefined) return null
  const backoffUntil: Record<string, number> = {}
  const complained: string[] = []
  for (const [field, value] of Object.entries(hash)) {
    if (field.startsWith('b:')) backoffUntil[field.slice(2)] = Number(value)
    else if (field.startsWith('x:')) complained.push(field.slice(2))
  }
  return { backoffUntil, complained }
}
