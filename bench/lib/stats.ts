/** Small statistics and formatting helpers for the benchmark report. */

export interface Percentiles { p50: number, p99: number, p999: number, count: number }

/** Nearest-rank percentiles of latencies in ms. */
export function percentiles (values: Float64Array): Percentiles {
  const sorted = values.slice().sort()
  const at = (p: number): number => sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? NaN
  return { p50: at(0.5), p99: at(0.99), p999: at(0.999), count: sorted.length }
}

export function median (values: number[]): number {
  const s = [...values].sort((a, b) => a - b)
  if (s.length === 0) return NaN
  const mid = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? s[mid] ?? NaN : ((s[mid - 1] ?? NaN) + (s[mid] ?? NaN)) / 2
}

export const ms = (v: number): string => `${v.toFixed(2)} ms`
export const int = (v: number): string => Math.round(v).toLocaleString('en-US')

export function latencyLine (label: string, p: Percentiles): string {
  return `${label}: p50 ${ms(p.p50)}  p99 ${ms(p.p99)}  p99.9 ${ms(p.p999)}  (${int(p.count)} requests)`
}
