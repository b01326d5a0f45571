/**
 * A placement is a string the client chooses: only the ones the policy declares reach the
 * report hash, the metrics and the log by name; every other one is `other`.
 */
import { randomBytes } from 'node:crypto'
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { reportDay } from '../../src/rules/reports/day.js'
import { policyErrors } from '../../src/rules/policy/validate.js'
import { AUTH, campaign, policy, rawRedis, redisGovernance, redisStore, TestClock, testConfig, uniquePrefix } from '../helpers/app.js'
import { scrape } from '../helpers/metrics.js'
import { reportStore } from '../helpers/reports.js'
import { buildApp } from '../../src/app.js'
import type { FastifyInstance } from 'fastify'

const DECLARED = ['home', 'feed']

describe('client-chosen placements on Redis', () => {
  const prefix = uniquePrefix()
  const clock = new TestClock()
  const lines: { event?: string, placement?: string }[] = []
  let app: FastifyInstance

  beforeAll(async () => {
    const sink = new Writable({ write (chunk, _enc, done) { lines.push(JSON.parse(String(chunk))); done() } })
    app = await buildApp(testConfig({ reports: { flushEveryMs: 3_600_000, retentionDays: 400, maxPendingUsers: 50_000 } }), {
      policy: { policy: policy({ placements: DECLARED }), campaigns: [campaign('a'), campaign('b')] },
      store: redisStore(prefix),
      reportStore: reportStore('redis', prefix),
      governance: redisGovernance(prefix),
      clock: clock.now,
      logger: pino({ level: 'info' }, sink)
    })
    const random = Array.from({ length: 300 }, () => 'slot-' + randomBytes(6).toString('hex'))
    for (const placement of [...random, 'home', 'feed', 'home']) {
      const res = await app.inject({ method: 'POST', url: '/v1/decide', headers: AUTH, payload: { userId: `u-${placement}`, placement, candidates: [{ campaignId: 'a' }, { campaignId: 'b' }] } })
      expect(res.statusCode).toBe(200)
    }
    await app.reports.flusher.flush()
  })
  afterAll(async () => { await app.close() })

  it('keeps the report hash to the declared placements and "other"', async () => {
    const redis = rawRedis()
    try {
      const fields = Object.keys(await redis.hgetall(`${prefix}{agg}:c:${reportDay(clock.now(), 'UTC')}`))
      const placements = new Set(fields.map((f) => f.split('|')[1]))
      expect([...placements].sort()).toEqual(['feed', 'home', 'other'])
      // Two campaigns, each allowed or lower_priority: at most 4 fields per placement, not 4 per request.
      expect(fields.length).toBeLessThanOrEqual(3 * 4)
    } finally {
      redis.disconnect()
    }
  })

  it('labels metrics and log lines with the declared placements and "other" only', async () => {
    const m = await scrape(app)
    const labels = new Set(m.samples.filter((s) => s.name === 'popguard_decisions_total').map((s) => s.labels.placement))
    expect([...labels].sort()).toEqual(['feed', 'home', 'other'])
    expect(m.value('popguard_decisions_total', { placement: 'other' })).toBe(300)
    const logged = new Set(lines.filter((l) => l.event === 'decision').map((l) => l.placement))
    expect([...logged].sort()).toEqual(['feed', 'home', 'other'])
    expect(JSON.stringify(lines)).not.toContain('slot-')
  })
})

describe('a policy\'s placements', () => {
  const paths = (over: Parameters<typeof policy>[0]) => policyErrors(policy(over)).map((e) => e.path)

  it('are at most 50 distinct names, "other" not among them (it stands for the rest)', () => {
    expect(paths({ placements: Array.from({ length: 50 }, (_, i) => `p${i}`) })).toEqual([])
    expect(paths({ placements: Array.from({ length: 51 }, (_, i) => `p${i}`) })).toEqual(['/placements'])
    expect(paths({ placements: ['home', 'home'] })).toEqual(['/placements'])
    expect(paths({ placements: ['home', 'other'] })).toEqual(['/placements/1'])
    expect(paths({ placements: ['has space'] })).toEqual(['/placements/0'])
  })

  it('must be declared for a cap per placement, and a cap may match only a declared one or "other"', () => {
    const perPlacement = { id: 'slot', per: 'placement' as const, limit: 1, window: '1h' }
    const onWallet = { id: 'wallet', per: 'user' as const, limit: 1, window: '1h', match: { placement: 'wallet' } }
    expect(paths({ caps: [perPlacement] })).toEqual(['/caps/0/per'])
    expect(paths({ placements: ['home'], caps: [perPlacement] })).toEqual([])
    expect(paths({ placements: ['home'], caps: [onWallet] })).toEqual(['/caps/0/match/placement'])
    expect(paths({ placements: ['home'], caps: [{ ...onWallet, match: { placement: 'other' } }] })).toEqual([])
    expect(paths({ placements: ['home', 'wallet'], caps: [onWallet] })).toEqual([])
  })
})
