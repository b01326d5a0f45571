import { campaign, policy, testApp } from './app.js'

/** Words of PromQL that are not metric names when they stand alone. */
const KEYWORDS = new Set([
  'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset',
  'sum', 'min', 'max', 'avg', 'count', 'stddev', 'stdvar', 'topk', 'bottomk', 'quantile', 'count_values', 'group',
  'inf', 'nan'
])

/**
 * The metric names a PromQL expression selects (enough for our own rules and panels, not a full
 * parser): strings, label matchers, ranges, grouping clauses and Grafana variables are removed
 * first; then every identifier that is not a function call or keyword is a metric name.
 */
export function metricNamesIn (expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\$\w+/g, ' ')
  const names = new Set<string>()
  for (const match of stripped.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*|\d[\w.]*/g)) {
    const word = match[0]
    if (/^\d/.test(word) || KEYWORDS.has(word.toLowerCase())) continue
    if (/^\s*\(/.test(stripped.slice(match.index + word.length))) continue
    names.add(word)
  }
  return [...names]
}

/** Series Prometheus itself adds to every scrape; they are not in /metrics. */
export const SCRAPE_SERIES = ['up', 'scrape_duration_seconds', 'scrape_samples_scraped', 'scrape_samples_post_metric_relabeling', 'scrape_series_added']

const SUFFIXES: Record<string, string[]> = { histogram: ['_bucket', '_sum', '_count'], summary: ['', '_sum', '_count'] }

/** Every series name a metrics text declares (from its # TYPE lines, so metrics with no sample yet count too). */
export function exportedNames (text: string): Set<string> {
  const names = new Set<string>()
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    for (const suffix of SUFFIXES[type!] ?? ['']) names.add(name! + suffix)
  }
  return names
}

/** The names a real app (memory store) exports on /metrics after one decision. */
export async function namesTheAppExports (): Promise<Set<string>> {
  const t = await testApp('memory', { policy: policy(), campaigns: [campaign('a')] })
  try {
    const decided = await t.decide({ userId: 'promql-user', placement: 'home', candidates: [{ campaignId: 'a' }] })
    if (decided.status !== 200) throw new Error(`decide answered ${decided.status}`)
    const res = await t.app.inject('/metrics')
    if (res.statusCode !== 200) throw new Error(`/metrics answered ${res.statusCode}`)
    return exportedNames(res.body)
  } finally {
    await t.close()
  }
}
