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
})
