// The Grafana dashboard is checked as data: every query it sends must name only metrics a real
// popguard exports (scraped, not listed by hand) or series the SLO recording rules define from
// them, so a renamed metric cannot leave a panel empty; and each panel's unit must fit its query.
import { readFileSync } from 'node:fs'
import { beforeAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { metricNamesIn, namesTheAppExports } from './helpers/promql.js'

const read = (path: string): string => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8')

interface Target { expr: string, refId: string }
interface Panel { type: string, title: string, datasource?: { type: string, uid: string }, targets?: Target[], panels?: Panel[], fieldConfig?: { defaults: { unit?: string } } }
interface Variable { type: string, name: string, query: string | { query: string } }

/** Grafana's reference to the `datasource` variable (Grafana syntax, not a JS template). */
const DATASOURCE_VARIABLE = '$' + '{datasource}'
const DASHBOARD_FILE = 'deploy/monitoring/dashboards/popguard-dashboard.json'

const dashboard = JSON.parse(read(DASHBOARD_FILE))
const panels: Panel[] = dashboard.panels.flatMap((p: Panel) => [p, ...(p.panels ?? [])])
const queryPanels = panels.filter((p) => p.type !== 'row')
const variables: Variable[] = dashboard.templating.list
const recorded = new Set<string>(parse(read('deploy/monitoring/rules.yml')).groups.flatMap((g: { rules: Array<{ record: string }> }) => g.rules.map((r) => r.record)))

/** label_values(metric{...}, label): the metric a variable's query reads. */
const labelValuesMetric = (query: string): string[] => metricNamesIn(/^label_values\((.*),\s*\w+\)$/.exec(query)?.[1] ?? query)
const unitOf = (panel: Panel): string | undefined => panel.fieldConfig?.defaults.unit
const exprs = (panel: Panel): string[] => (panel.targets ?? []).map((t) => t.expr)

describe('Grafana dashboard', () => {
  let exported: Set<string>
  beforeAll(async () => { exported = await namesTheAppExports() })

  it('has a datasource variable for Prometheus, and every panel queries through it', () => {
    const datasource = variables.find((v) => v.name === 'datasource')
    expect(datasource).toMatchObject({ type: 'datasource', query: 'prometheus' })
    for (const panel of queryPanels) {
      expect(panel.datasource, panel.title).toEqual({ type: 'prometheus', uid: DATASOURCE_VARIABLE })
    }
  })

  it('queries only metrics a running popguard exports, or the SLO series recorded from them', () => {
    expect(queryPanels.length).toBeGreaterThanOrEqual(10)
    for (const panel of queryPanels) {
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0)
      for (const target of panel.targets ?? []) {
        const names = metricNamesIn(target.expr)
        expect(names, `${panel.title} ${target.refId}`).not.toEqual([])
        expect(names.filter((n) => !exported.has(n) && !recorded.has(n)), `${panel.title} ${target.refId} uses metrics /metrics does not export`).toEqual([])
      }
    }
    for (const v of variables.filter((v) => v.type === 'query')) {
      const query = typeof v.query === 'string' ? v.query : v.query.query
      expect(labelValuesMetric(query).filter((n) => !exported.has(n)), `variable ${v.name}`).toEqual([])
    }
  })

  it('filters every series it selects by the job variable, and per-instance ones by the instance variable', () => {
    for (const panel of queryPanels) {
      for (const target of panel.targets ?? []) {
        for (const name of metricNamesIn(target.expr)) {
          const selectors = [...target.expr.matchAll(new RegExp(`(?<![\\w:])${name}\\{([^}]*)\\}`, 'g'))].map((m) => m[1]!)
          expect(selectors.length, `${panel.title}: ${name} is selected with labels`).toBeGreaterThan(0)
          for (const labels of selectors) {
            expect(labels, panel.title).toContain('job=~"$job"')
            // Recorded SLO series are per job: they have no instance label.
            if (!recorded.has(name)) expect(labels, panel.title).toContain('instance=~"$instance"')
          }
        }
      }
    }
  })

  it('uses reqps only for HTTP request rates, percentunit for ratios, seconds for latencies and bytes for memory', () => {
    const units = new Map(queryPanels.map((p) => [p.title, unitOf(p)]))
    for (const panel of queryPanels) {
      const all = exprs(panel)
      const httpRate = all.every((e) => /^sum by \([\w, ]+\) \(rate\(popguard_http_request_duration_seconds_count\{/.test(e))
      expect(unitOf(panel) === 'reqps', `${panel.title}: reqps if and only if it plots HTTP request rates`).toBe(httpRate)
      if (all.every((e) => e.startsWith('histogram_quantile('))) expect(unitOf(panel), panel.title).toBe('s')
      if (all.every((e) => /_bytes\{/.test(e))) expect(unitOf(panel), panel.title).toBe('bytes')
      if (all.every((e) => /error_budget_remaining|\) \/ sum(?: by \(\w+\))? \(rate\(/.test(e))) expect(unitOf(panel), panel.title).toBe('percentunit')
    }
    expect(units.get('HTTP requests/s by status')).toBe('reqps')
  })

  it('shows each SLO\'s remaining error budget, event loop lag, heap, GC and HTTP latency by route', () => {
    const all = queryPanels.flatMap(exprs).join('\n')
    for (const needed of [
      'job:popguard_decide_availability:error_budget_remaining', 'job:popguard_decide_latency:error_budget_remaining',
      'nodejs_eventloop_lag_p99_seconds', 'nodejs_heap_size_used_bytes', 'nodejs_gc_duration_seconds_sum',
      'sum by (route, le) (rate(popguard_http_request_duration_seconds_bucket'
    ]) expect(all, needed).toContain(needed)
  })

  it('is provisioned from the folder the compose stack mounts, against the compose Prometheus', () => {
    const provider = parse(read('deploy/monitoring/grafana/provisioning/dashboards/popguard.yml')).providers[0]
    const grafana = parse(read('docker-compose.yml')).services.grafana
    const mount = (grafana.volumes as string[]).find((v) => v.startsWith('./deploy/monitoring/dashboards:'))
    expect(mount?.split(':')[1]).toBe(provider.options.path)
    expect(grafana.environment.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH).toBe(`${provider.options.path}/popguard-dashboard.json`)
    const source = parse(read('deploy/monitoring/grafana/provisioning/datasources/prometheus.yml')).datasources[0]
    expect(source).toMatchObject({ type: 'prometheus', url: 'http://prometheus:9090' })
  })
})
