// The alert rules in deploy/prometheus are checked three ways: promtool validates them and the
// scrape config, promtool's unit tests make each alert fire (and not fire) on made-up series, and
// every metric name they use must be one a real popguard exports, so a renamed metric breaks a test.
import { execFileSync, spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { metricNamesIn, namesTheAppExports, SCRAPE_SERIES } from './helpers/promql.js'

const root = fileURLToPath(new URL('../', import.meta.url))
const read = (path: string): string => readFileSync(new URL(path, new URL('../', import.meta.url)), 'utf8')

interface Rule { alert?: string, record?: string, expr: string, for?: string, labels?: Record<string, string>, annotations?: Record<string, string> }
const rules: Rule[] = parse(read('deploy/prometheus/alerts.yml')).groups.flatMap((g: { rules: Rule[] }) => g.rules)
const alerts = rules.filter((r) => r.alert !== undefined)

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
  it('accepts the alert rules', () => {
    const { status, output } = promtool('check', 'rules', 'deploy/prometheus/alerts.yml')
    expect(status, output).toBe(0)
    expect(output).toContain(`${rules.length} rules found`)
  })

  it('accepts the Prometheus config, with the rule file it loads', () => {
    const { status, output } = promtool('check', 'config', 'deploy/prometheus/prometheus.yml')
    expect(status, output).toBe(0)
    expect(output).toContain('1 rule files found')
  })

  it('passes the rule unit tests', () => {
    const { status, output } = promtool('test', 'rules', 'deploy/prometheus/alerts.test.yml')
    expect(status, output).toBe(0)
  })
})

describe('alert rules', () => {
  let exported: Set<string>
  beforeAll(async () => { exported = await namesTheAppExports() })

  it('use only metrics a running popguard exports', () => {
    for (const rule of rules) {
      const names = metricNamesIn(rule.expr)
      expect(names, rule.alert).not.toEqual([])
      const unknown = names.filter((n) => !exported.has(n) && !SCRAPE_SERIES.includes(n))
      expect(unknown, `${rule.alert ?? rule.record} uses metrics /metrics does not export`).toEqual([])
    }
  })

  it('each have a severity, a summary, a description and a runbook', () => {
    for (const alert of alerts) {
      expect(['critical', 'warning'], alert.alert).toContain(alert.labels?.severity)
      for (const key of ['summary', 'description', 'runbook']) expect(alert.annotations?.[key], `${alert.alert} ${key}`).toMatch(/\S/)
    }
  })

  it('are each tested firing by the promtool unit tests', () => {
    const tests = parse(read('deploy/prometheus/alerts.test.yml')).tests as Array<{ alert_rule_test: Array<{ alertname: string, exp_alerts: unknown[] }> }>
    const firing = new Set(tests.flatMap((t) => t.alert_rule_test).filter((c) => c.exp_alerts.length > 0).map((c) => c.alertname))
    const silent = new Set(tests.flatMap((t) => t.alert_rule_test).filter((c) => c.exp_alerts.length === 0).map((c) => c.alertname))
    for (const alert of alerts) {
      expect(firing.has(alert.alert!), `${alert.alert} fires in a test`).toBe(true)
      expect(silent.has(alert.alert!), `${alert.alert} stays silent in a test`).toBe(true)
    }
  })

  it('are each documented in docs/operations.md', () => {
    const docs = read('docs/operations.md')
    for (const alert of alerts) expect(docs.includes(`| \`${alert.alert}\``), `${alert.alert} has a row in the alerts table`).toBe(true)
  })
})

describe('metricNamesIn', () => {
  it('finds the metric names and nothing else', () => {
    expect(metricNamesIn('histogram_quantile(0.99, sum by (instance, le) (rate(a_bucket{le!="1",x=~"5.."}[5m])))')).toEqual(['a_bucket'])
    expect(metricNamesIn('sum without (op) (increase(b_total[$__rate_interval] offset 5m)) / on (job) group_left (x) c > bool 0')).toEqual(['b_total', 'c'])
    expect(metricNamesIn('max by (job) (v) - min by (job) (v) > 0 and up == 1')).toEqual(['v', 'up'])
  })
})
