import { DAY_MS } from '../time.js'

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: DAY_MS } as const

/** Milliseconds in a duration such as `10m`; the schema has already checked its shape. */
export function durationMs (text: string): number {
  const unit = text.slice(-1) as keyof typeof UNIT_MS
  const amount = Number(text.slice(0, -1))
  const ms = UNIT_MS[unit]
  if (!Number.isInteger(amount) || ms === undefined) throw new Error(`not a duration: ${text}`)
  return amount * ms
}
