import { Writable } from 'node:stream'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { campaign, policy, testApp, type TestApp } from './helpers/app.js'
import { pseudonymizer } from '../src/log/pseudonym.js'
import { testConfig } from './helpers/app.js'

describe('the decision log', () => {
  const lines: any[] = []
  let t: TestApp
  const userId = 'alice@example.com'

  beforeAll(async () => {
    const sink = new Writable({ write (chunk, _enc, done) { lines.push(JSON.parse(String(chunk))); done() } })
    t = await testApp('redis', {
      policy: policy({ placements: ['home'], caps: [{ id: 'one', per: 'user', limit: 1, window: '1d' }] }),
      campaigns: [campaign('a', { priority: 60 }), campaign('b')]
    }, { logger: pino({ level: 'info' }, sink) })
  })
  afterAll(async () => { await t.close() })

  it('writes one line per decision with every verdict, and never the raw user id', async () => {
    const first = await t.decide({ userId, placement: 'home', candidates: [{ campaignId: 'a' }, { campaignId: 'b' }] })
    await t.decide({ userId, placement: 'home', candidates: [{ campaignId: 'b' }], requestId: 'r1' })
    const decisions = lines.filter((l) => l.event === 'decision')
    expect(decisions).toHaveLength(2)
    expect(decisions[0]).toMatchObject({
      decisionId: first.body.decisionId,
      user: pseudonymizer(testConfig().logKey)(userId),
      placement: 'home',
      shown: 'a',
      candidates: [{ campaignId: 'a', allowed: true, reason: 'eligible' }, { campaignId: 'b', allowed: false, reason: 'lower_priority' }],
      policyVersion: 1,
      mode: 'enforce',
      cohort: 'treated'
    })
    expect(typeof decisions[0].latencyMs).toBe('number')
    expect(decisions[1]).toMatchObject({ shown: null, candidates: [{ campaignId: 'b', reason: 'cap_exceeded', capId: 'one' }] })
    expect(JSON.stringify(lines)).not.toContain(userId)
  })

  it('carries what a replay needs: the decision clock, the zone, the activity, classes, and each event by pseudonym', async () => {
    lines.length = 0
    const before = Date.now()
    const d = await t.decide({ userId, placement: 'home', candidates: [{ campaignId: 'a' }, { campaignId: 'ghost' }], context: { timezone: 'asia/tokyo', activity: 'browsing' } })
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { authorization: 'Bearer dev-client-key' },
      payload: { events: [{ decisionId: d.body.decisionId, userId, campaignId: 'b', type: 'dismissed' }] }
    })
    expect(res.statusCode).toBeLessThan(300)
    const decision = lines.find((l) => l.event === 'decision')
    expect(decision.at).toBeGreaterThanOrEqual(before)
    expect(decision).toMatchObject({ timezone: 'Asia/Tokyo', activity: 'browsing' })
    expect(decision.candidates.map((c: any) => c.class)).toEqual(['marketing', 'unknown'])
    const events = lines.find((l) => l.event === 'events')
    expect(events.items).toEqual([{
      user: pseudonymizer(testConfig().logKey)(userId), decisionId: d.body.decisionId, campaignId: 'b', type: 'dismissed', at: events.at, outcome: 'unknown_decision'
    }])
    expect(JSON.stringify(lines)).not.toContain(userId)
  })
})
