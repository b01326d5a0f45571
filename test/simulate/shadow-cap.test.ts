/**
 * A cap in shadow mode on a real popguard (Redis): every answer is the one a popguard without the cap
 * gives (two apps in lockstep), and the cap shows up where people look: the daily report's
 * `wouldSuppress`, the metric by cap id, the decision log, and the simulator's figures.
 */
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../src/app.js'
import { compilePolicy } from '../../src/rules/policy/compile.js'
import type { PolicyFile } from '../../src/rules/policy/schema.js'
import { simulate } from '../../src/simulate/simulate.js'
import { campaign, policy, redisGovernance, redisStore, TestClock, testConfig, uniquePrefix } from '../helpers/app.js'
import { scrape } from '../helpers/metrics.js'
import { REPORTS_AUTH, reportApp, reportStore, type ReportApp } from '../helpers/reports.js'

const CAMPAIGNS = [campaign('a', { priority: 60 }), campaign('b', { priority: 40 })]
const BASE = { caps: [{ id: 'weekly', per: 'user' as const, limit: 6, window: '7d' }] }
const withShadow: PolicyFile = {
  policy: policy({ ...BASE, caps: [...BASE.caps, { id: 'trial-daily', per: 'user', limit: 2, window: '1d', mode: 'shadow' }] }),
  campaigns: CAMPAIGNS
}
const without: PolicyFile = { policy: policy(BASE), campaigns: CAMPAIGNS }

describe('a cap in shadow mode', () => {
  const clock = new TestClock(Date.parse('2026-06-01T06:00:00Z'))
  const logged: any[] = []
  let shadowApp: FastifyInstance
  let plain: ReportApp
  const answers: [any, any][] = []

  beforeAll(async () => {
    const prefix = uniquePrefix()
    const sink = new Writable({ write (chunk, _e, done) { for (const l of String(chunk).split('\n')) if (l !== '') logged.push(l); done() } })
    shadowApp = await buildApp(testConfig({ reports: { flushEveryMs: 3_600_000, retentionDays: 400, maxPendingUsers: 50_000 } }), {
      policy: withShadow, store: redisStore(prefix), reportStore: reportStore('redis', prefix), governance: redisGovernance(prefix), clock: clock.now, logger: pino({ level: 'info' }, sink)
    })
    plain = await reportApp('redis', without, uniquePrefix(), clock)
    for (let i = 0; i < 60; i++) {
      clock.advance(17 * 60_000)
      const body = { userId: `u${i % 4}`, placement: 'home', candidates: [{ campaignId: 'a' }, { campaignId: 'b' }] }
      const a = await shadowApp.inject({ method: 'POST', url: '/v1/decide', headers: { authorization: 'Bearer dev-client-key' }, payload: body })
      const b = await plain.app.inject({ method: 'POST', url: '/v1/decide', headers: { authorization: 'Bearer dev-client-key' }, payload: body })
      answers.push([a.json(), b.json()])
    }
  }, 60_000)
  afterAll(async () => {
    await shadowApp?.close()
    await plain?.app.close()
  })

  it('never changes an answer', () => {
    const strip = ({ decisionId: _d, ...rest }: any) => rest
    for (const [a, b] of answers) expect(strip(a)).toEqual(strip(b))
    // The weekly cap (applied) did stop some: the comparison covers suppressions too.
    expect(answers.some(([a]) => a.show === null)).toBe(true)
  })

  it('is counted in the daily report, the metric and the decision log', async () => {
    // Each of 4 users asks 15 times (every 68 min); 2 a day pass the shadow cap, 6 a week the applied one.
    const wouldHaveStopped = answers.filter(([a]) => a.show !== null).length - 4 * 2
    const res = await shadowApp.inject({ url: '/v1/reports/daily?from=2026-06-01&to=2026-06-01', headers: REPORTS_AUTH })
    expect(res.statusCode).toBe(200)
    const day = res.json().days[0]
    // Per candidate: both candidates of an answered decision (the winner and the one below it) would have been stopped.
    expect(day.wouldSuppress).toEqual({ 'cap:trial-daily': 2 * wouldHaveStopped })
    expect((await scrape(shadowApp)).value('popguard_shadow_suppressions_total', { rule: 'cap', cap_id: 'trial-daily' })).toBe(2 * wouldHaveStopped)
    const lines = logged.map((l) => JSON.parse(l)).filter((l) => l.event === 'decision')
    expect(lines.filter((l) => l.candidates[0].shadow?.capId === 'trial-daily')).toHaveLength(wouldHaveStopped)
  })

  it('is predicted by the simulator from a log without it', () => {
    // The shadow app's log: its answers are the plain app's (the test above).
    const r = simulate(logged, compilePolicy(withShadow.policy, withShadow.campaigns, 0))
    expect(r.agreement.sameAnswer).toBe(r.agreement.decisions)
    expect(r.candidate.wouldSuppress).toEqual(r.recorded.wouldSuppress)
    expect(r.candidate.wouldSuppress['cap:trial-daily']).toBeGreaterThan(0)
    const applied = simulate(logged, compilePolicy({ ...withShadow.policy, caps: withShadow.policy.caps.map((c) => ({ ...c, mode: 'enforce' as const })) }, CAMPAIGNS, 0))
    expect(applied.candidate.marketing.shown).toBe(4 * 2)
  })
})
