// A real Prometheus server loads deploy/monitoring's recording and alert rules and evaluates them
// against a running popguard: every rule must evaluate without error on the real series and their
// real labels, and the SLO ratios must come out defined (0 errors of real traffic, not empty or NaN).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse, stringify } from 'yaml'
import { campaign, policy, testApp, type TestApp } from './helpers/app.js'
import { eventually } from './helpers/metrics.js'

const RULE_FILES = ['rules.yml', 'alerts.yml'].map((f) => fileURLToPath(new URL(`../deploy/monitoring/${f}`, import.meta.url)))

interface RuleState { name: string, health: string, lastError?: string, lastEvaluation: string }
interface RuleGroup { name: string, interval?: string, rules: Array<{ record?: string, alert?: string }> }
const groupsIn = (file: string): RuleGroup[] => parse(readFileSync(file, 'utf8')).groups

/** The shipped rule files with each group's own interval dropped, so the 5-minute budget group is evaluated every second too. */
function everySecond (dir: string): string[] {
  return RULE_FILES.map((file, i) => {
    const copy = join(dir, `rules-${i}.yml`)
    writeFileSync(copy, stringify({ groups: groupsIn(file).map(({ interval, ...group }) => group) }))
    return copy
  })
}

async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

describe('a real Prometheus server', () => {
  let t: TestApp
  let prometheus: ChildProcess | undefined
  let dir: string
  let api: string

  beforeAll(async () => {
    if (spawnSync('prometheus', ['--version']).status !== 0) {
      throw new Error('prometheus is not installed: this test needs it (Debian: apt-get install -y prometheus; npm test installs it when run as root)')
    }
    t = await testApp('memory', { policy: policy(), campaigns: [campaign('a')] })
    await t.decide({ userId: 'prometheus-user', placement: 'home', candidates: [{ campaignId: 'a' }] })
    const target = new URL(await t.app.listen({ port: 0, host: '127.0.0.1' })).host
    dir = mkdtempSync(join(tmpdir(), 'popguard-prometheus-'))
    writeFileSync(join(dir, 'prometheus.yml'), JSON.stringify({
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      rule_files: everySecond(dir),
      scrape_configs: [{ job_name: 'popguard', static_configs: [{ targets: [target] }] }]
    }))
    const port = await freePort()
    api = `http://127.0.0.1:${port}/api/v1`
    prometheus = spawn('prometheus', [
      `--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'
    ], { stdio: 'ignore' })
  })

  afterAll(async () => {
    prometheus?.kill()
    await t?.close()
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
  })

  const query = async (expr: string): Promise<Array<{ metric: Record<string, string>, value: [number, string] }>> => {
    const res = await fetch(`${api}/query?query=${encodeURIComponent(expr)}`)
    const body = await res.json() as { status: string, data: { result: [] }, error?: string }
    if (body.status !== 'success') throw new Error(`${expr}: ${body.error}`)
    return body.data.result
  }

  it('scrapes popguard and evaluates every alert rule on its series without error', async () => {
    // Prometheus applies discovered targets every 5 s, so the first scrape lands 5-6 s after start.
    await eventually('Prometheus scraped popguard', async () => {
      try { return (await query('popguard_decisions_total')).length > 0 } catch { return false }
    }, 15_000)
    const scrapedAt = Date.now()
    let rules: RuleState[] = []
    await eventually('every rule evaluated after the first scrape', async () => {
      const body = await (await fetch(`${api}/rules`)).json() as { data: { groups: Array<{ rules: RuleState[] }> } }
      rules = body.data.groups.flatMap((g) => g.rules)
      return rules.length > 0 && rules.every((r) => Date.parse(r.lastEvaluation) > scrapedAt)
    }, 15_000)
    expect(rules.map((r) => [r.name, r.health, r.lastError ?? ''])).toEqual(rules.map((r) => [r.name, 'ok', '']))
    const inFiles = RULE_FILES.flatMap(groupsIn).flatMap((g) => g.rules.map((r) => r.record ?? r.alert))
    expect(rules.map((r) => r.name).sort()).toEqual(inFiles.sort())
  }, 20_000)

  it('sees the instance up and the version-skew rule\'s inner query answer 0 for it', async () => {
    expect((await query('up{job="popguard"}')).map((r) => r.value[1])).toEqual(['1'])
    const skew = await query('max by (job) (popguard_policy_version) - min by (job) (popguard_policy_version)')
    expect(skew.map((r) => [r.metric.job, r.value[1]])).toEqual([['popguard', '0']])
  })

  it('computes both SLIs and their error budgets from real decide traffic: nothing failed, so 0 unavailable and the whole budget left', async () => {
    const traffic = setInterval(() => { t.decide({ userId: 'slo-user', placement: 'home', candidates: [{ campaignId: 'a' }] }).catch(() => {}) }, 50)
    try {
      await eventually('the SLO ratios and budgets recorded', async () => {
        const [unavailable, slow, budget] = await Promise.all([
          query('job:popguard_decide_unavailable:ratio_rate5m'),
          query('job:popguard_decide_slow:ratio_rate5m'),
          query('job:popguard_decide_availability:error_budget_remaining')
        ])
        return [unavailable, slow, budget].every((r) => r.length === 1 && r[0]!.value[1] !== 'NaN')
      }, 15_000)
    } finally {
      clearInterval(traffic)
    }
    expect((await query('job:popguard_decide_unavailable:ratio_rate5m')).map((r) => [r.metric.job, r.value[1]])).toEqual([['popguard', '0']])
    expect((await query('job:popguard_decide_availability:error_budget_remaining')).map((r) => r.value[1])).toEqual(['1'])
    const slow = Number((await query('job:popguard_decide_slow:ratio_rate5m'))[0]!.value[1])
    expect(slow).toBeGreaterThanOrEqual(0)
    expect(slow).toBeLessThanOrEqual(1)
  }, 20_000)
})
