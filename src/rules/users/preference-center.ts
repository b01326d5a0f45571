/**
 * The preference centre's rules: what the page shows a user (categories from the campaign
 * registry, what is always on, how many marketing pop-ups they were allowed lately), how one
 * change from the page becomes a preferences document, and how every change is recorded
 * (the user's history and the daily report's counts).
 */
import type { CompiledPolicy } from '../policy/compile.js'
import type { Impression } from '../decide/user-state.js'
import { DAY_MS } from '../time.js'
import type { PreferencesDoc, PreferencesInput, Switch } from './preferences.js'

/** Snoozes the page offers, in days. */
export const SNOOZE_DAYS = [1, 7, 30] as const
/** How far back "pop-ups shown lately" looks: within the ledger's horizon (at least 26 h) for every policy. */
export const RECENT_WINDOW_MS = DAY_MS
/** Changes kept per user; older ones are dropped as new ones come. */
export const HISTORY_KEEP = 100
/** The history lives as long as the preferences it explains. */
export const HISTORY_TTL_MS = 400 * DAY_MS

/** One change of a user's preferences, as recorded and counted. */
export type PreferenceChange =
  | { kind: 'marketing', value: Switch }
  | { kind: 'category', category: string, value: Switch }
  | { kind: 'snooze', until: number | null }

/** Who made a change: the user on the page, or an app through the API (its key's name). */
export type ChangeSource = { via: 'preference_center' } | { via: 'api', key: string }

export interface HistoryRecord {
  at: string
  /** e.g. `marketing_off`, `category_off`, `snooze`, `snooze_ended`. */
  change: string
  category?: string
  /** For a snooze: when it ends. */
  until?: string
  /** `user` on the page; `app` through the API. */
  by: 'user' | 'app'
  via: 'preference_center' | 'api'
  /** The API key, for a change through the API. */
  key?: string
}

export function changeName (c: PreferenceChange): string {
  if (c.kind === 'snooze') return c.until === null ? 'snooze_ended' : 'snooze'
  return `${c.kind}_${c.value}`
}

export function historyRecord (c: PreferenceChange, source: ChangeSource, now: number): HistoryRecord {
  return {
    at: new Date(now).toISOString(),
    change: changeName(c),
    ...(c.kind === 'category' ? { category: c.category } : {}),
    ...(c.kind === 'snooze' && c.until !== null ? { until: new Date(c.until).toISOString() } : {}),
    by: source.via === 'preference_center' ? 'user' : 'app',
    via: source.via,
    ...(source.via === 'api' ? { key: source.key } : {})
  }
}

/** A stored history record, or null for one that is not (a record is never trusted blindly). */
export function parseHistoryRecord (raw: string): HistoryRecord | null {
  try {
    const r = JSON.parse(raw) as HistoryRecord
    return typeof r.at === 'string' && typeof r.change === 'string' ? r : null
  } catch {
    return null
  }
}

/** What changed between two documents, in a stable order: marketing, categories by name, snooze. */
export function diffPreferences (before: PreferencesDoc, after: PreferencesDoc): PreferenceChange[] {
  const changes: PreferenceChange[] = []
  if (before.marketing !== after.marketing) changes.push({ kind: 'marketing', value: after.marketing })
  const names = [...new Set([...Object.keys(before.categories), ...Object.keys(after.categories)])].sort()
  for (const category of names) {
    const was = before.categories[category] ?? 'on'
    const now = after.categories[category] ?? 'on'
    if (was !== now) changes.push({ kind: 'category', category, value: now })
  }
  if (before.snoozeUntil !== after.snoozeUntil) {
    changes.push({ kind: 'snooze', until: after.snoozeUntil === null ? null : Date.parse(after.snoozeUntil) })
  }
  return changes
}

/** The whole document after one change from the page (the store replaces preferences whole). */
export function applyChange (doc: PreferencesDoc, change: PreferenceChange): PreferencesInput {
  const input: PreferencesInput = { marketing: doc.marketing, categories: { ...doc.categories }, snoozeUntil: doc.snoozeUntil }
  if (change.kind === 'marketing') input.marketing = change.value
  else if (change.kind === 'category') {
    // "on" is the default: an explicit "on" is dropped so the hash holds only what differs.
    if (change.value === 'on') delete input.categories![change.category]
    else input.categories![change.category] = 'off'
  } else input.snoozeUntil = change.until === null ? null : new Date(change.until).toISOString()
  return input
}

/** Marketing pop-ups popguard let through for the user within `windowMs` (reserved or confirmed). */
export function recentMarketing (ledger: readonly Impression[], now: number, windowMs = RECENT_WINDOW_MS): number {
  return ledger.filter((i) => i.classCode === 'm' && i.ts > now - windowMs && i.ts <= now).length
}

export interface CenterCategory {
  id: string
  /** The display name in the page's language, from the policy's `categories`; the id when none. */
  name: string
  /** Names of the category's active marketing campaigns, a few, so the user knows what it is. */
  examples: string[]
  value: Switch
}

export interface AlwaysOnItem {
  category: string
  name: string
  class: 'service' | 'critical'
  /** The policy's reason for the category, when it gives one (the page has a default per class). */
  reason: string | null
  examples: string[]
}

export interface CenterView {
  preferences: PreferencesDoc
  categories: CenterCategory[]
  alwaysOn: AlwaysOnItem[]
  recent: { marketingShown: number, hours: number }
}

const MAX_EXAMPLES = 3

function displayName (policy: CompiledPolicy, category: string, lang: string): string {
  const entry = policy.document.categories?.[category]
  if (entry === undefined) return category
  return entry.names?.[lang] ?? entry.names?.[lang.split('-')[0] ?? ''] ?? entry.name
}

/**
 * The page's view: the categories of the registry's marketing campaigns (each switchable), and
 * those of service and critical messages (always on). A category the user switched off that the
 * registry no longer has is still listed, so it can be switched on again.
 */
export function centerView (policy: CompiledPolicy, prefs: PreferencesDoc, ledger: readonly Impression[], now: number, lang: string): CenterView {
  const marketing = new Map<string, string[]>()
  const always = new Map<string, { cls: 'service' | 'critical', examples: string[] }>()
  const campaigns = [...policy.campaigns.values()].sort((a, b) => b.priority - a.priority || a.id.localeCompare(b.id))
  for (const c of campaigns) {
    if (c.class === 'marketing') {
      const list = marketing.get(c.category) ?? []
      if (c.status === 'active' && list.length < MAX_EXAMPLES) list.push(c.name)
      marketing.set(c.category, list)
    } else {
      const entry = always.get(c.category) ?? { cls: c.class, examples: [] }
      if (c.class === 'critical') entry.cls = 'critical'
      if (entry.examples.length < MAX_EXAMPLES) entry.examples.push(c.name)
      always.set(c.category, entry)
    }
  }
  for (const [category, value] of Object.entries(prefs.categories)) if (value === 'off' && !marketing.has(category)) marketing.set(category, [])
  const byName = (a: { name: string }, b: { name: string }): number => a.name.localeCompare(b.name)
  return {
    preferences: prefs,
    categories: [...marketing].map(([id, examples]) => ({ id, name: displayName(policy, id, lang), examples, value: prefs.categories[id] ?? 'on' })).sort(byName),
    alwaysOn: [...always].filter(([id]) => !marketing.has(id)).map(([category, e]) => ({
      category,
      name: displayName(policy, category, lang),
      class: e.cls,
      reason: policy.document.categories?.[category]?.reason ?? null,
      examples: e.examples
    })).sort(byName),
    recent: { marketingShown: recentMarketing(ledger, now), hours: RECENT_WINDOW_MS / 3_600_000 }
  }
}

/** Whether the page may switch this category: a marketing category of the registry, or one already off. */
export function isSwitchable (view: CenterView, category: string): boolean {
  return view.categories.some((c) => c.id === category)
}
