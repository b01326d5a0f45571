// The Grafana dashboard is checked as data: every query it sends must name only metrics a real
// popguard exports (scraped, not listed by hand), so a renamed metric cannot leave a panel empty.
import { readFileSync } from 'node:fs'
import { beforeAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { metricNamesIn, namesTheAppExports } from './helpers/promql.js'

const read = (path: string): string => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8')

interface Target { expr: string, refId: string }
interface Panel { type: string, title: string, datasource?: { type: string, uid: string }, targets?: Target[], panels?: Panel[] }
interface Variable { type: string, name: string, query: string | { query: string } }

/** Grafana's reference to the `datasource` variable (Grafana syntax, not a JS template). */
const DATASOURCE_VARIABLE = '$' + '{datasource}'

const dashboard = JSON.parse(read('deploy/grafana/popguard-dashboard.json'))
const panels: Panel[] = dashboard.panels.flatMap((p: Panel) => [p, ...(p.panels ?? [])])
const queryPanels = panels.filter((p) => p.type !== 'row')
const variables: Variable[] = dashboard.templating.list

/** label_values(metric{...}, label): the metric a variable's query reads. */
const labelValuesMetric = (query: string): string[] => metricNamesIn(/^label_values\((.*),\s*\w+\)$/.exec(query)?.[1] ?? query)

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

  it('queries only metrics a running popguard exports', () => {
    expect(queryPanels.length).toBeGreaterThanOrEqual(10)
    for (const panel of queryPanels) {
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0)
      for (const target of panel.targets ?? []) {
        const names = metricNamesIn(target.expr)
        expect(names, `${panel.title} ${target.refId}`).not.toEqual([])
        expect(names.filter((n) => !exported.has(n)), `${panel.title} ${target.refId} uses metrics /metrics does not export`).toEqual([])
      }
    }
    for (const v of variables.filter((v) => v.type === 'query')) {
      const query = typeof v.query === 'string' ? v.query : v.query.query
      expect(labelValuesMetric(query).filter((n) => !exported.has(n)), `variable ${v.name}`).toEqual([])
    }
  })

  it('filters every panel by the job and instance variables', () => {
    for (const panel of queryPanels) {
      for (const target of panel.targets ?? []) {
        for (const selector of target.expr.match(/popguard_\w+\{[^}]*\}/g) ?? []) {
          expect(selector, panel.title).toContain('job=~"$job"')
          expect(selector, panel.title).toContain('instance=~"$instance"')
        }
        expect(target.expr, panel.title).toMatch(/popguard_\w+\{/)
      }
    }
  })

  it('is provisioned from the path the compose stack mounts it at, against the compose Prometheus', () => {
    const provider = parse(read('deploy/grafana/provisioning/dashboards/popguard.yml')).providers[0]
    const grafana = parse(read('docker-compose.yml')).services.grafana
    const mount = (grafana.volumes as string[]).find((v) => v.startsWith('./deploy/grafana/popguard-dashboard.json:'))
    expect(mount?.split(':')[1]).toBe(`${provider.options.path}/popguard-dashboard.json`)
    const source = parse(read('deploy/grafana/provisioning/datasources/prometheus.yml')).datasources[0]
    expect(source).toMatchObject({ type: 'prometheus', url: 'http://prometheus:9090' })
  })
})
