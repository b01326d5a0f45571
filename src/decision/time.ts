/**
 * Local-time arithmetic in IANA time zones with nothing but Intl.
 * Formatters are costly to build, so one is kept per zone.
 */
const formatters = new Map<string, Intl.DateTimeFormat>()

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
    if (formatters.size > 1000) formatters.clear()
    formatters.set(timeZone, f)
  }
  return f
}

export function isValidTimeZone (timeZone: string): boolean {
  if (formatters.has(timeZone)) return true
  try {
    formatter(timeZone)
    return true
  } catch {
    return false
  }
}

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

/** The last day computed per zone: five Intl calls per decision were about a sixth of its CPU. */
const lastDays = new Map<string, DayBounds>()

/** Start of the user's current calendar day and of the next one, as UTC ms. */
export function calendarDayBounds (ms: number, timeZone: string): DayBounds {
  const last = lastDays.get(timeZone)
  if (last !== undefined && last.start <= ms && ms < last.end) return last
  const t = localTime(ms, timeZone)
  const start = instantOfLocal(t.year, t.month, t.day, timeZone)
  const end = instantOfLocal(t.year, t.month, t.day + 1, timeZone)
  const day = Object.freeze({ start, end })
  if (lastDays.size > 1000) lastDays.clear()
  lastDays.set(timeZone, day)
  return day
}

/**
 * Seconds until the quiet window ends when `ms` falls inside it, else 0.
 * `startMinute`/`endMinute` are minutes of the local day; a window may cross midnight.
 */
export function secondsLeftInWindow (ms: number, timeZone: string, startMinute: number, endMinute: number): number {
  if (startMinute === endMinute) return 0
  const t = localTime(ms, timeZone)
  const nowSecond = (t.hour * 60 + t.minute) * 60 + t.second
  const start = startMinute * 60
  const end = endMinute * 60
  const inside = start < end ? nowSecond >= start && nowSecond < end : nowSecond >= start || nowSecond < end
  if (!inside) return 0
  return ((end - nowSecond) + 86_400) % 86_400 || 86_400
}
