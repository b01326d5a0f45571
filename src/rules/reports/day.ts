import { DAY_MS, localTime } from '../time.js'

const pad = (n: number, w = 2): string => String(n).padStart(w, '0')

/** The report day of an instant: its calendar date in the given zone, `YYYY-MM-DD`. */
export function reportDay (ms: number, timeZone: string): string {
  const t = localTime(ms, timeZone)
  return `${pad(t.year, 4)}-${pad(t.month)}-${pad(t.day)}`
}

/** Every day from `from` to `to` inclusive (both `YYYY-MM-DD`). */
export function daysBetween (from: string, to: string): string[] {
  const days: string[] = []
  for (let ms = Date.parse(from + 'T00:00:00Z'); ms <= Date.parse(to + 'T00:00:00Z'); ms += DAY_MS) {
    days.push(new Date(ms).toISOString().slice(0, 10))
  }
  return days
}

/** Days in an inclusive range; NaN when a date is not a real calendar date. */
export function dayCount (from: string, to: string): number {
  const a = Date.parse(from + 'T00:00:00Z')
  const b = Date.parse(to + 'T00:00:00Z')
  const real = (ms: number, day: string): boolean => Number.isFinite(ms) && new Date(ms).toISOString().slice(0, 10) === day
  if (!real(a, from) || !real(b, to)) return NaN
  return Math.round((b - a) / DAY_MS) + 1
}
