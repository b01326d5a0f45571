import { execFileSync, spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { loadConfig } from '../src/config/config.js'
import type { PolicyFile } from '../src/rules/policy/schema.js'
import { appOnRedis, AUTH, campaign, policy, STORE_KINDS, testApp, type TestApp } from './helpers/app.js'
import { eventually, scrape } from './helpers/metrics.js'
import { startRedisServer } from './helpers/redis-server.js'

const capped: PolicyFile = { policy: policy({ placements: ['home'], caps: [{ id: 'daily', per: 'user', limit: 1, window: '1d' }] }), campaigns: [campaign('a'), campaign('b')] }
const ask = (t: TestApp, placement = 'home', extra: Record<string, unknown> = {}) =>
  t.decide({ userId: 'metrics-user-7f3a', placement, candidates: [{ campaignId: 'a' }], ...extra })

describe.each(STORE_KINDS)('metrics (%s store)', (kind) => {
  let t: TestApp | undefined
  afterEach(async () => { await t?.close(); t = undefined })

  it('counts a capped decision by outcome and its verdict by reason, class and cohort', async () => {
    t = await testApp(kind, capped)
    await ask(t)
    const before = await scrape(t.app)
    expect((await ask(t)).body.candidates[0].reason).toBe('cap_exceeded')
    const after = await scrape(t.app)
    const verdict = { reason: 'cap_exceeded', class: 'marketing', cohort: 'treated', enforced: 'true' }
    expect(after.value('popguard_candidates_total', verdict) - before.value('popguard_candidates_total', verdict)).toBe(1)
    expect(after.value('popguard_decisions_total', { outcome: 'none', mode: 'enforce', placement: 'home' })).toBe(1)
    expect(after.value('popguard_decisions_total', { outcome: 'shown', mode: 'enforce', placement: 'home' })).toBe(1)
    expect(after.value('popguard_decision_duration_seconds_count')).toBe(2)
  })

  it('counts events by type and outcome', async () => {
    t = await testApp(kind, capped)
    const { body } = await ask(t)
    const event = { decisionId: body.decisionId, userId: 'metrics-user-7f3a', campaignId: 'a', type: 'shown' }
    const send = () => t!.app.inject({ method: 'POST', url: '/v1/events', headers: AUTH, payload: { events: [event] } })
    expect((await send()).statusCode).toBe(202)
    await send()
    const m = await scrape(t.app)
    expect(m.value('popguard_events_total', { type: 'shown', outcome: 'accepted' })).toBe(1)
    expect(m.value('popguard_events_total', { type: 'shown', outcome: 'duplicate' })).toBe(1)
  })

  it('labels rules that were evaluated but not applied (shadow mode) enforced="false"', async () => {
    t = await testApp(kind, { ...capped, policy: { ...capped.policy, mode: 'shadow' } })
    await ask(t)
    expect((await ask(t)).body.show).toEqual({ campaignId: 'a' })
    const m = await scrape(t.app)
    expect(m.value('popguard_candidates_total', { reason: 'cap_exceeded', enforced: 'false' })).toBe(1)
    expect(m.value('popguard_decisions_total', { outcome: 'shown', mode: 'shadow' })).toBe(2)
  })

  it('counts a replayed request once as a decision and once as a replay', async () => {
    t = await testApp(kind, capped)
    await ask(t, 'home', { requestId: 'r-1' })
    await ask(t, 'home', { requestId: 'r-1' })
    const m = await scrape(t.app)
    expect(m.value('popguard_decisions_replayed_total')).toBe(1)
    expect(m.value('popguard_candidates_total', { reason: 'cap_exceeded' })).toBe(0)
  })
})

describe('metrics labels', () => {
  let t: TestApp | undefined
  afterEach(async () => { await t?.close(); t = undefined })

  it('labels placements by the policy\'s list, whatever the order clients use them in: the rest is "other"', async () => {
    t = await testApp('memory', { policy: policy({ placements: ['home', 'wallet'] }), campaigns: [campaign('a')] })
    for (let i = 0; i < 60; i++) await ask(t, `slot-${i}`)
    await ask(t, 'wallet')
    const m = await scrape(t.app)
    const placements = new Set(m.samples.filter((s) => s.name === 'popguard_decisions_total').map((s) => s.labels.placement))
    expect([...placements].sort()).toEqual(['other', 'wallet'])
    expect(m.value('popguard_decisions_total', { placement: 'other' })).toBe(60)
    expect(m.value('popguard_decisions_total', { placement: 'wallet' })).toBe(1)
  })

  it('labels HTTP requests by route pattern, never by raw URL, and carries no user ids', async () => {
    t = await testApp('memory', { policy: policy(), campaigns: [campaign('a')] })
    await ask(t)
    await t.app.inject('/v1/users/metrics-user-7f3a/preferences')
    await t.app.inject('/v1/people/metrics-user-7f3a')
    const m = await scrape(t.app)
    expect(m.value('popguard_http_request_duration_seconds_count', { method: 'POST', route: '/v1/decide', status_code: '200' })).toBe(1)
    expect(m.value('popguard_http_request_duration_seconds_count', { route: '/v1/users/:userId/preferences', status_code: '401' })).toBe(1)
    expect(m.value('popguard_http_request_duration_seconds_count', { route: 'unmatched', status_code: '404' })).toBe(1)
    expect(m.text).not.toContain('metrics-user-7f3a')
  })

  it('reports the policy version in force when scraped', async () => {
    t = await testApp('memory', { policy: policy(), campaigns: [campaign('a')] })
    expect((await scrape(t.app)).value('popguard_policy_version')).toBe(1)
    t.app.policy.replace(policy(), [campaign('a')], 7)
    expect((await scrape(t.app)).value('popguard_policy_version')).toBe(7)
  })

  it('says which version and commit the instance runs (popguard_build_info)', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
    t = await testApp('memory', { policy: policy(), campaigns: [campaign('a')] }, { config: { commit: loadConfig({ POPGUARD_COMMIT: '3f9c2e1' }).commit } })
    const info = (await scrape(t.app)).samples.filter((s) => s.name === 'popguard_build_info')
    expect(info).toEqual([{ name: 'popguard_build_info', labels: { version, commit: '3f9c2e1' }, value: 1 }])
    expect(loadConfig({}).commit).toBe('unknown')
    expect(() => loadConfig({ POPGUARD_COMMIT: 'a"} 1\nevil' })).toThrow(/POPGUARD_COMMIT/)
  })
})

describe('store metrics', () => {
  it('times store calls, and counts errors, degraded decisions and the circuit opening when Redis dies', async () => {
    const redis = await startRedisServer()
    const app = await appOnRedis(redis.url)
    try {
      const decide = () => app.inject({ method: 'POST', url: '/v1/decide', headers: AUTH, payload: { userId: 'u1', placement: 'home', candidates: [{ campaignId: 'a' }] } })
      expect((await decide()).json().show).toEqual({ campaignId: 'a' })
      let m = await scrape(app)
      expect(m.value('popguard_store_call_duration_seconds_count', { op: 'decide', result: 'ok' })).toBe(1)
      expect(m.value('popguard_store_info', { kind: 'redis' })).toBe(1)
      expect(m.value('popguard_store_breaker_state', { state: 'closed' })).toBe(1)

      await redis.stop()
      for (let i = 0; i < 6; i++) expect((await decide()).json().candidates[0].reason).toBe('degraded')
      m = await scrape(app)
      expect(m.value('popguard_decisions_degraded_total')).toBe(6)
      expect(m.value('popguard_store_errors_total', { op: 'decide' })).toBeGreaterThanOrEqual(5)
      expect(m.value('popguard_store_breaker_state', { state: 'open' })).toBe(1)
      expect(m.value('popguard_store_breaker_transitions_total', { state: 'open' })).toBe(1)

      await redis.start()
      await eventually('the breaker closes again', async () => {
        await decide()
        return (await scrape(app)).value('popguard_store_breaker_state', { state: 'closed' }) === 1
      })
    } finally {
      await app.close()
      await redis.stop()
    }
  })
})

/** promtool's lint flags these prom-client default metrics (gauges named *_total); they are not ours to rename. */
const PROM_CLIENT_LINT = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']

function hasPromtool (): boolean {
  try {
    execFileSync('promtool', ['--version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

describe('metrics format', () => {
  it('passes promtool check metrics, with every popguard metric lint-clean', async () => {
    if (!hasPromtool()) {
      throw new Error('promtool is not installed: this test needs it (Debian: apt-get install -y prometheus; npm test installs it when run as root)')
    }
    const t = await testApp('redis', capped)
    try {
      await ask(t)
      await ask(t)
      await t.app.inject('/nowhere')
      const { text } = await scrape(t.app)
      const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' })
      const problems = (check.stdout + check.stderr).split('\n').filter((l) => l.trim() !== '')
      // 0: clean; 3: lint problems only (1 would be a format error).
      expect([0, 3], problems.join('\n')).toContain(check.status)
      expect(problems.filter((p) => !PROM_CLIENT_LINT.some((name) => p.startsWith(name + ' ')))).toEqual([])
    } finally {
      await t.close()
    }
  })
})
