/** A simulation result as a table for people, CSV for spreadsheets, or JSON. Pure. */
import { stringify } from 'csv-stringify/sync'
import type { SimulationResult } from './simulate.js'

type Row = [figure: string, recorded: number | null, candidate: number | null, difference: number | null]

const round = (n: number | null, digits = 4): number | null => n === null ? null : Math.round(n * 10 ** digits) / 10 ** digits
const diff = (a: number | null, b: number | null): number | null => a === null || b === null ? null : round(b - a)

/** Every figure, one row each: totals, reasons, shadow rules, shows per user-day, then per campaign. */
export function rowsOf (r: SimulationResult): Row[] {
  const a = r.recorded
  const b = r.candidate
  const rows: Row[] = []
  const row = (name: string, x: number | null, y: number | null): void => { rows.push([name, round(x), round(y), diff(x, y)]) }
  row('decisions', a.decisions, b.decisions)
  row('candidates requested', a.requested, b.requested)
  row('decisions allowed', a.allowed, b.allowed)
  row('marketing requested', a.marketing.requested, b.marketing.requested)
  row('marketing shown', a.marketing.shown, b.marketing.shown)
  row('reduction', a.marketing.reduction, b.marketing.reduction)
  for (const k of [...new Set([...Object.keys(a.suppressed), ...Object.keys(b.suppressed)])].sort()) {
    row(`suppressed ${k}`, a.suppressed[k] ?? 0, b.suppressed[k] ?? 0)
  }
  for (const k of [...new Set([...Object.keys(a.wouldSuppress), ...Object.keys(b.wouldSuppress)])].sort()) {
    row(`would suppress (shadow) ${k}`, a.wouldSuppress[k] ?? 0, b.wouldSuppress[k] ?? 0)
  }
  row('shows per user-day mean', a.perUserDay.mean, b.perUserDay.mean)
  row('shows per user-day p50', a.perUserDay.p50, b.perUserDay.p50)
  row('shows per user-day p95', a.perUserDay.p95, b.perUserDay.p95)
  row('shows per user-day max', a.perUserDay.max, b.perUserDay.max)
  const ids = [...new Set([...a.campaigns, ...b.campaigns].map((c) => c.campaignId))].sort()
  for (const id of ids) {
    const x = a.campaigns.find((c) => c.campaignId === id)
    const y = b.campaigns.find((c) => c.campaignId === id)
    row(`campaign ${id} requested`, x?.requested ?? 0, y?.requested ?? 0)
    row(`campaign ${id} allowed`, x?.allowed ?? 0, y?.allowed ?? 0)
    for (const k of [...new Set([...Object.keys(x?.suppressed ?? {}), ...Object.keys(y?.suppressed ?? {})])].sort()) {
      row(`campaign ${id} suppressed ${k}`, x?.suppressed[k] ?? 0, y?.suppressed[k] ?? 0)
    }
  }
  return rows
}

const cell = (n: number | null, signed = false): string => n === null ? '-' : (signed && n > 0 ? '+' : '') + String(n)

export function formatTable (r: SimulationResult): string {
  const rows = rowsOf(r)
  const head = ['figure', 'recorded', 'candidate', 'difference']
  const body = rows.map(([f, x, y, d]) => [f, cell(x), cell(y), cell(d, true)])
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)))
  const line = (cells: string[]): string => cells.map((c, i) => i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)).join('  ')
  const out = [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line), '']
  const g = r.agreement
  out.push(`lines: ${r.lines.read} read, ${r.lines.decisions} decisions, ${r.lines.events} event lines, ${r.lines.ignored} other, ${r.lines.bad} malformed (skipped)`)
  out.push(`answers: ${g.sameAnswer} of ${g.decisions} decisions answered as recorded`)
  out.push('', 'assumptions:', ...r.assumptions.map((s) => `  - ${s}`))
  return out.join('\n') + '\n'
}

export function formatCsv (r: SimulationResult): string {
  return stringify([['figure', 'recorded', 'candidate', 'difference'], ...rowsOf(r).map((x) => x.map((v) => v ?? ''))])
}

export const FORMATS = ['table', 'json', 'csv'] as const
export type Format = typeof FORMATS[number]

export function formatResult (r: SimulationResult, format: Format): string {
  if (format === 'json') return JSON.stringify(r, null, 2) + '\n'
  return format === 'csv' ? formatCsv(r) : formatTable(r)
}
