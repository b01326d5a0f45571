// The monitoring mixin in deploy/monitoring is checked three ways: promtool validates the rules and
// the scrape config; promtool's unit tests make each alert fire (and not fire) on made-up series and
// pin the SLO recordings' values; and every metric name the rules use must be one a real popguard
// exports (or one the recording rules define), so a renamed metric breaks a test.
import { execFileSync, spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { metricNamesIn, namesTheAppExports, SCRAPE_SERIES } from './helpers/promql.js'

const root = fileURLToPath(new URL('../', import.meta.url))
const read = (path: string): string => readFileSync(new URL(path, new URL('../', import.meta.url)), 'utf8')
const DIR = 'deploy/monitoring'

interface Rule { alert?: string, record?: string, expr: string, for?: string, labels?: Record<string, string>, annotations?: Record<string, string> }
interface AlertCase { alertname: string, exp_alerts: unknown[] }
const rulesIn = (file: string): Rule[] => parse(read(`${DIR}/${file}`)).groups.flatMap((g: { rules: Rule[] }) => g.rules)
const recordingRules = rulesIn('rules.yml')
const alertRules = rulesIn('alerts.yml')
const alerts = alertRules.filter((r) => r.alert !== undefined)
const recorded = new Set(recordingRules.map((r) => r.record))
const TEST_FILES = ['alerts.test.yml', 'slo.test.yml']

/** The anchor GitHub gives a Markdown heading. */
const slug = (heading: string): string => heading.trim().toLowerCase().replace(/[^\w\s-]/g, '').replace(/\s/g, '-')

function promtool (...args: string[]): { status: number | null, output: string } {
  try {
    execFileSync('promtool', ['--version'], { stdio: 'ignore' })
  } catch {
    throw new Error('promtool is not installed: these tests need it (Debian: apt-get install -y prometheus; npm test installs it when run as root)')
  }
  const run = spawnSync('promtool', args, { cwd: root, encoding: 'utf8' })
  return { status: run.status, output: run.stdout + run.stderr }
}

describe('promtool', () => {
  it('accepts the recording rules and the alert rules, each file holding only its kind', () => {
    for (const [file, rules] of [['rules.yml', recordingRules], ['alerts.yml', alertRules]] as const) {
      const { status, output } = promtool('check', 'rules', `${DIR}/${file}`)
      expect(status, output).toBe(0)
      expect(output).toContain(`${rules.length} rules found`)
    }
    expect(recordingRules.every((r) => r.record !== undefined && r.alert === undefined)).toBe(true)
    expect(alertRules.every((r) => r.alert !== undefined)).toBe(true)
  })

  it('accepts the Prometheus config, with the two rule files it loads', () => {
    const { status, output } = promtool('check', 'config', `${DIR}/prometheus.yml`)
    expect(status, output).toBe(0)
    expect(output).toContain('2 rule files found')
  })

  it.each(TEST_FILES)('passes the rule unit tests of %s', (file) => {
    const { status, output } = promtool('test', 'rules', `${DIR}/${file}`)
    expect(status, output).toBe(0)
    expect(output).toContain('SUCCESS')
  })
})

describe('rules', () => {
  let exported: Set<string>
  beforeAll(async () => { exported = await namesTheAppExports() })

  it('record from metrics a running popguard exports, and alert on those or on recorded series', () => {
    for (const rule of recordingRules) {
      const names = metricNamesIn(rule.expr)
      expect(names, rule.record).not.toEqual([])
      expect(names.filter((n) => !exported.has(n) && !recorded.has(n)), `${rule.record} uses metrics /metrics does not export`).toEqual([])
    }
    for (const rule of alertRules) {
      const names = metricNamesIn(rule.expr)
      expect(names, rule.alert).not.toEqual([])
      const unknown = names.filter((n) => !exported.has(n) && !recorded.has(n) && !SCRAPE_SERIES.includes(n))
      expect(unknown, `${rule.alert} uses metrics neither /metrics nor rules.yml provides`).toEqual([])
    }
  })

  it('alert: each with a severity, a summary, a description and a runbook_url to a heading of docs/operations.md', () => {
    const docs = read('docs/operations.md')
    const anchors = new Set([...docs.matchAll(/^#{2,4} (.+)$/gm)].map(([, heading]) => slug(heading!)))
    for (const alert of alerts) {
      expect(['critical', 'warning'], alert.alert).toContain(alert.labels?.severity)
      for (const key of ['summary', 'description']) expect(alert.annotations?.[key], `${alert.alert} ${key}`).toMatch(/\S/)
      const [, anchor] = /^docs\/operations\.md#([\w-]+)$/.exec(alert.annotations?.runbook_url ?? '') ?? []
      expect(anchor, `${alert.alert} runbook_url`).toBe(alert.alert!.toLowerCase())
      expect(anchors.has(anchor!), `docs/operations.md has a heading "${alert.alert}"`).toBe(true)
    }
  })

  it('alert: each tested firing and staying silent by the promtool unit tests', () => {
    const cases: AlertCase[] = TEST_FILES.flatMap((file) => (parse(read(`${DIR}/${file}`)).tests as Array<{ alert_rule_test?: AlertCase[] }>).flatMap((t) => t.alert_rule_test ?? []))
    const firing = new Set(cases.filter((c) => c.exp_alerts.length > 0).map((c) => c.alertname))
    const silent = new Set(cases.filter((c) => c.exp_alerts.length === 0).map((c) => c.alertname))
    for (const alert of alerts) {
      expect(firing.has(alert.alert!), `${alert.alert} fires in a test`).toBe(true)
      expect(silent.has(alert.alert!), `${alert.alert} stays silent in a test`).toBe(true)
    }
  })

  it('alert: each documented in the alerts table of docs/operations.md', () => {
    const docs = read('docs/operations.md')
    for (const alert of alerts) expect(docs.includes(`| \`${alert.alert}\``), `${alert.alert} has a row in the alerts table`).toBe(true)
  })

  it('page on a fast burn and open tickets on a slow one, for both SLOs, from the recorded ratios only', () => {
    const burn = alerts.filter((a) => a.labels?.slo !== undefined)
    expect(burn.map((a) => [a.labels!.slo, a.labels!.severity]).sort()).toEqual([
      ['decide-availability', 'critical'], ['decide-availability', 'warning'],
      ['decide-latency', 'critical'], ['decide-latency', 'warning']
    ])
    for (const alert of burn) expect(metricNamesIn(alert.expr).every((n) => recorded.has(n)), alert.alert).toBe(true)
  })

  it('include one that fires when Prometheus has no popguard target at all', () => {
    expect(alerts.some((a) => a.expr.replace(/\s/g, '') === 'absent(up{job="popguard"})')).toBe(true)
  })
})

describe('metricNamesIn', () => {
  it('finds the metric names and nothing else', () => {
    expect(metricNamesIn('histogram_quantile(0.99, sum by (instance, le) (rate(a_bucket{le!="1",x=~"5.."}[5m])))')).toEqual(['a_bucket'])
    expect(metricNamesIn('sum without (op) (increase(b_total[$__rate_interval] offset 5m)) / on (job) group_left (x) c > bool 0')).toEqual(['b_total', 'c'])
    expect(metricNamesIn('max by (job) (v) - min by (job) (v) > 0 and up == 1')).toEqual(['v', 'up'])
    expect(metricNamesIn('1 - job:a_b:ratio_rate5m / (1 - 0.999) or 0 * x')).toEqual(['job:a_b:ratio_rate5m', 'x'])
  })
})
