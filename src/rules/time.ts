/**
 * Local-time arithmetic in IANA time zones with nothing but Intl.
 *
 * Zone names come from clients, so every cache here is keyed by the zone's canonical name
 * (case folded, links resolved as far as the runtime's ICU does) and the set of keys is the
 * finite set of zones: `aSiA/sHaNgHaI` costs one lookup, not a new formatter.
 */

/** One day of 24 hours, in ms: a rolling day, not a calendar day in a zone (see calendarDayBounds). */
export const DAY_MS = 86_400_000

/** An IANA name: a letter first, then letters, digits, `_ + - /` (offsets such as `+05:00` are not zones here). */
const ZONE_NAME = /^[A-Za-z][A-Za-z0-9_+/-]{0,63}$/
/** More names than any ICU knows (about 600 with links): a bound that is never reached, never a cache policy. */
export const MAX_ZONE_NAMES = 2000
/** Invalid names remembered, so a client repeating one costs a lookup; random ones each cost one Intl call. */
export const MAX_INVALID_ZONE_NAMES = 256

/** Spelling as received (exact, then lower case) → canonical name. */
const canonicalByName = new Map<string, string>()
const invalidNames = new Set<string>()
/** One formatter per canonical zone: they are costly to build. */
const formatters = new Map<string, Intl.DateTimeFormat>()
/** The last day computed per canonical zone: five Intl calls per decision were about a sixth of its CPU. */
const lastDays = new Map<string, DayBounds>()

function formatter (timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone)
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric'
    })
    if (formatters.size >= MAX_ZONE_NAMES) formatters.clear()
    formatters.set(timeZone, f)
  }
  return f
}

function remember (name: string, canonical: string): void {
  if (canonicalByName.size < MAX_ZONE_NAMES) canonicalByName.set(name, canonical)
}

/**
 * The canonical name of a time zone given in any letter case (`asia/shanghai` → `Asia/Shanghai`,
 * `US/Eastern` → its ICU canonical zone), or null when it is not a zone. Bounded work for any input.
 */
export function canonicalTimeZone (name: string): string | null {
  const exact = canonicalByName.get(name)
  if (exact !== undefined) return exact
  if (!ZONE_NAME.test(name)) return null
  const folded = name.toLowerCase()
  const known = canonicalByName.get(folded)
  if (known !== undefined) return known
  if (invalidNames.has(folded)) return null
  let canonical: string
  try {
    canonical = new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone
  } catch {
    if (invalidNames.size >= MAX_INVALID_ZONE_NAMES) invalidNames.clear()
    invalidNames.add(folded)
    return null
  }
  remember(folded, canonical)
  remember(canonical, canonical)
  return canonical
}

export function isValidTimeZone (timeZone: string): boolean {
  return canonicalTimeZone(timeZone) !== null
}

/** How many zones the caches hold (for tests of their bounds). */
export function zoneCacheSizes (): { names: number, formatters: number, invalid: number, days: number } {
  return { names: canonicalByName.size, formatters: formatters.size, invalid: invalidNames.size, days: lastDays.size }
}

/** `timeZone` here and below: a canonical name, from canonicalTimeZone. */
export interface LocalTime { year: number, month: number, day: number, hour: number, minute: number, second: number }

export function localTime (ms: number, timeZone: string): LocalTime {
  const t: LocalTime = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0 }
  for (const part of formatter(timeZone).formatToParts(ms)) {
    if (part.type in t) t[part.type as keyof LocalTime] = Number(part.value)
  }
  return t
}

/** How far the zone's wall clock is ahead of UTC at this instant, in ms. */
function offsetMs (ms: number, timeZone: string): number {
  const t = localTime(ms, timeZone)
  const asUtc = Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second)
  return asUtc - Math.floor(ms / 1000) * 1000
}

/** The UTC instant at which a local wall-clock time occurs (the later offset wins across a DST jump). */
function instantOfLocal (year: number, month: number, day: number, timeZone: string): number {
  const guess = Date.UTC(year, month - 1, day)
  const first = guess - offsetMs(guess, timeZone)
  return guess - offsetMs(first, timeZone)
}

export interface DayBounds { readonly start: number, readonly end: number }

/** Start of the user's current calendar day and of the next one, as UTC ms. */
export function calendarDayBounds (ms: number, timeZone: string): DayBounds {
  const last = lastDays.get(timeZone)
  if (last !== undefined && last.start <= ms && ms < last.end) return last
  const t = localTime(ms, timeZone)
  const start = instantOfLocal(t.year, t.month, t.day, timeZone)
  const end = instantOfLocal(t.year, t.month, t.day + 1, timeZone)
  const day = Object.freeze({ start, end })
  if (lastDays.size >= MAX_ZONE_NAMES) lastDays.clear()
  lastDays.set(timeZone, day)
  return day
}

/**
 * Seconds until the quiet window ends when `ms` falls inside it, else 0.
 * `startMinute`/`endMinute` are minutes of the local day; a window may cross midnight.
 */
export function secondsLeftInWindow (ms: number, timeZone: string, startMinute: number, endMinute: number): number {
  if (startMinute === endMinute) return 0
  // On a day of 24 hours (no offset change) the wall clock is the time since local midnight: the
  // cached day bounds answer without an Intl call (a fifth of a replay's CPU, docs/simulator.md).
  const day = calendarDayBounds(ms, timeZone)
  let nowSecond: number
  if (day.end - day.start === DAY_MS) {
    nowSecond = Math.floor((ms - day.start) / 1000)
  } else {
    const t = localTime(ms, timeZone)
    nowSecond = (t.hour * 60 + t.minute) * 60 + t.second
  }
  const start = startMinute * 60
  const end = endMinute * 60
  const inside = start < end ? nowSecond >= start && nowSecond < end : nowSecond >= start || nowSecond < end
  if (!inside) return 0
  return ((end - nowSecond) + 86_400) % 86_400 || 86_400
}
