/**
 * The simulator's correctness check (issue 16): a scripted day on a real popguard (Redis store) is
 * logged; replaying the log under the policy in force reproduces every answer; replaying it under a
 * stricter cap predicts what a second real popguard, run in lockstep with that cap, answered.
 */
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AUTH, campaign, policy, TestClock, testApp, type TestApp } from '../helpers/app.js'
import { compilePolicy } from '../../src/rules/policy/compile.js'
import type { PolicyFile } from '../../src/rules/policy/schema.js'
import { simulate, type SimulationResult } from '../../src/simulate/simulate.js'

/** A small deterministic PRNG: the script is the same on every run. */
function prng (seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const CAMPAIGNS = [
  campaign('spring', { priority: 60 }),
  campaign('cashback', { priority: 40 }),
  campaign('loan', { priority: 40, category: 'loans', caps: [{ id: 'loan-weekly', per: 'campaign', limit: 1, window: '7d' }] }),
  campaign('update', { class: 'service', category: 'app', priority: 70 }),
  campaign('old', { status: 'paused' })
]

function fileWith (dailyLimit: number): PolicyFile {
  return {
    policy: policy({
      defaultTimezone: 'UTC',
      placements: ['home', 'feed'],
      caps: [
        { id: 'daily', per: 'user', limit: dailyLimit, window: 'calendarDay' },
        { id: 'hourly', per: 'user', limit: 2, window: '1h' },
        { id: 'feed-day', per: 'placement', match: { placement: 'feed' }, limit: 2, window: '1d' }
      ],
      cooldown: '5m',
      quietHours: { start: '22:00', end: '07:00' },
      doNotInterrupt: ['checkout'],
      fatigue: { dismissals: 2, within: '1d', backoff: '1d' },
      holdout: { percent: 20, salt: 'day-1' }
    }),
    campaigns: CAMPAIGNS
  }
}

interface Step { userId: string, body: Record<string, unknown>, event?: { type: string, seed: number } }

/** One day: 40 users, ~1,200 requests, a few time zones and activities, events after a pop-up, a few resent requests. */
function script (): { steps: Step[], gaps: number[] } {
  const rnd = prng(16)
  const ids = ['spring', 'cashback', 'loan', 'update', 'old', 'nope']
  const zones = [undefined, undefined, 'Asia/Shanghai', 'America/New_York']
  const steps: Step[] = []
  const gaps: number[] = []
  for (let i = 0; i < 1200; i++) {
    const user = `user-${Math.floor(rnd() * 40)}@example.com`
    const candidates = ids.filter(() => rnd() < 0.45).map((campaignId) => ({ campaignId }))
    if (candidates.length === 0) candidates.push({ campaignId: 'spring' })
    const zone = zones[Math.floor(rnd() * zones.length)]
    const context: Record<string, string> = {}
    if (zone !== undefined) context.timezone = zone
    if (rnd() < 0.05) context.activity = 'checkout'
    const body: Record<string, unknown> = { userId: user, placement: rnd() < 0.3 ? 'feed' : (rnd() < 0.1 ? 'somewhere' : 'home'), candidates, context }
    if (rnd() < 0.05) body.requestId = `req-${Math.floor(rnd() * 20)}`
    const r = rnd()
    const type = r < 0.6 ? 'shown' : r < 0.75 ? 'dismissed' : r < 0.85 ? 'discarded' : r < 0.88 ? 'complained' : r < 0.95 ? 'clicked' : undefined
    steps.push({ userId: user, body, event: type === undefined ? undefined : { type, seed: rnd() } })
    gaps.push(Math.floor(rnd() * 150_000))
  }
  return { steps, gaps }
}

function sinkInto (lines: string[]): Writable {
  return new Writable({ write (chunk, _enc, done) { lines.push(...String(chunk).split('\n').filter((l) => l !== '')); done() } })
}

describe('replaying a scripted day', () => {
  const clock = new TestClock(Date.parse('2026-06-01T00:00:00Z'))
  const inForceLines: string[] = []
  const file = fileWith(3)
  const stricter = fileWith(1)
  let live: TestApp
  let strict: TestApp
  /** What the stricter popguard answered, counted from its HTTP answers. */
  const expected = { marketingRequested: 0, marketingShown: 0, decisions: 0 }
  /** What the popguard in force answered. */
  const answered = { marketingShown: 0, sameAsLog: 0 }

  beforeAll(async () => {
    live = await testApp('redis', file, { clock, logger: pino({ level: 'info' }, sinkInto(inForceLines)) })
    strict = await testApp('redis', stricter, { clock, logger: pino({ level: 'silent' }) })
    const { steps, gaps } = script()
    const marketing = new Set(CAMPAIGNS.filter((c) => c.class === 'marketing').map((c) => c.id))
    for (const [i, step] of steps.entries()) {
      clock.advance(gaps[i] ?? 0)
      const a = await live.decide(step.body)
      const b = await strict.decide(step.body)
      expect(a.status).toBe(200)
      expect(b.status).toBe(200)
      // Counted as the reports count: a resent request (the same answer again) once.
      const requested = (step.body.candidates as { campaignId: string }[]).some((c) => marketing.has(c.campaignId))
      if (b.body.decisionId !== undefined && !strictSeen.has(b.body.decisionId)) {
        strictSeen.add(b.body.decisionId)
        expected.decisions++
        if (requested) expected.marketingRequested++
        if (b.body.show !== null && marketing.has(b.body.show.campaignId)) expected.marketingShown++
      }
      if (a.body.show !== null && marketing.has(a.body.show.campaignId) && !liveSeen.has(a.body.decisionId)) answered.marketingShown++
      liveSeen.add(a.body.decisionId)
      if (a.body.show === null || step.event === undefined) continue
      clock.advance(Math.floor(step.event.seed * 20_000))
      const event = { decisionId: a.body.decisionId, userId: step.userId, campaignId: a.body.show.campaignId, type: step.event.type }
      const res = await live.app.inject({ method: 'POST', url: '/v1/events', headers: AUTH, payload: { events: [event] } })
      expect([200, 202]).toContain(res.statusCode)
      // The simulator's model: an event reaches the candidate's run only when it showed the same pop-up.
      if (b.body.show?.campaignId === a.body.show.campaignId) {
        const r2 = await strict.app.inject({ method: 'POST', url: '/v1/events', headers: AUTH, payload: { events: [{ ...event, decisionId: b.body.decisionId }] } })
        expect([200, 202]).toContain(r2.statusCode)
      }
    }
  }, 120_000)
  const strictSeen = new Set<string>()
  const liveSeen = new Set<string>()

  afterAll(async () => {
    await live?.close()
    await strict?.close()
  })

  const run = (f: PolicyFile): SimulationResult => simulate(inForceLines, compilePolicy(f.policy, f.campaigns, 0), { maxBadLines: 0 })

  it('reproduces every recorded answer under the policy in force', () => {
    const r = run(file)
    expect(r.lines.bad).toBe(0)
    expect(r.lines.decisions).toBe(1200)
    expect(r.lines.events).toBeGreaterThan(300)
    expect(r.agreement.differences).toEqual([])
    expect(r.agreement.sameAnswer).toBe(r.agreement.decisions)
    expect(r.candidate).toEqual(r.recorded)
    // The recorded side is what popguard answered over HTTP.
    expect(r.recorded.marketing.shown).toBe(answered.marketingShown)
    expect(r.recorded.suppressed.quiet_hours).toBeGreaterThan(0)
    expect(r.recorded.suppressed.cap_exceeded).toBeGreaterThan(0)
    expect(r.recorded.suppressed.fatigue).toBeGreaterThan(0)
  })

  it('predicts the answers of a stricter cap as a popguard running it gave them', () => {
    const r = run(stricter)
    expect(r.candidate.decisions).toBe(expected.decisions)
    expect(r.candidate.marketing.requested).toBe(expected.marketingRequested)
    expect(r.candidate.marketing.shown).toBe(expected.marketingShown)
    expect(r.candidate.marketing.reduction).toBeCloseTo(1 - expected.marketingShown / expected.marketingRequested, 12)
    expect(r.candidate.campaigns.flatMap((c) => Object.entries(c.suppressed)).length).toBeGreaterThan(0)
    expect(r.difference.marketingShown).toBe(expected.marketingShown - answered.marketingShown)
    expect(r.difference.marketingShown).toBeLessThan(0)
    expect(r.agreement.sameAnswer).toBeLessThan(r.agreement.decisions)
  })
})
