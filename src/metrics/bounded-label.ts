/**
 * Keeps a client-chosen label value (e.g. the placement) to a bounded set: the first
 * `max` distinct values pass through, every later one becomes `other`, so a client
 * cannot grow the number of time series without limit.
 */
export function boundedLabel (max: number, overflow = 'other'): (value: string) => string {
  const seen = new Set<string>()
  return (value) => {
    if (seen.has(value)) return value
    if (seen.size >= max) return overflow
    seen.add(value)
    return value
  }
}
