/**
 * One user's state stays bounded whatever a client does, with the same rules in both stores:
 * the impression ledger, the idempotency records and the dedupe log each keep a fixed number
 * of entries, and drop the ones that matter least first.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { userTag } from '../helpers/app.js'
import { MAX_EVENT_LOG_RECORDS, MAX_LEDGER_RECORDS, MAX_REPLIES, REPLIES_KEPT } from '../../src/rules/decide/limits.js'
import { userKeys } from '../../src/redis/keys.js'
import { RECORD_LENGTH } from '../../src/redis/user-store/ledger-codec.js'
import { campaign, policy, rawRedis, STORE_KINDS, TestClock, testApp, type TestApp } from '../helpers/app.js'
import { userControl } from '../helpers/user-control.js'

const CAMPAIGNS = [campaign('a'), campaign('update', { class: 'service' })]

describe.each(STORE_KINDS)('bounded user state (%s store)', (kind) => {
  let t: TestApp | undefined
  afterEach(async () => { await t?.close(); t = undefined })

  const ask = async (id: string, extra: Record<string, unknown> = {}) =>
    (await t!.decide({ userId: 'user-1', placement: 'home', candidates: [{ campaignId: id }], ...extra })).body
  const shown = (d: any) => ({ decisionId: d.decisionId, userId: 'user-1', campaignId: d.show.campaignId, type: 'shown' })

  it('uses the bounds the documentation gives', () => {
    expect([MAX_LEDGER_RECORDS, MAX_REPLIES, REPLIES_KEPT, MAX_EVENT_LOG_RECORDS]).toEqual([256, 64, 32, 512])
  })

  it('keeps the newest 256 impressions, dropping the oldest service ones first, then the oldest', async () => {
    t = await testApp(kind, { policy: policy(), campaigns: CAMPAIGNS })
    const decisions: any[] = []
    for (let i = 0; i < 10; i++) decisions.push(await ask('a'))
    const service = await ask('update')
    for (let i = 0; i < MAX_LEDGER_RECORDS - 6; i++) decisions.push(await ask('a'))
    // 261 impressions: the service one goes, then the four oldest marketing ones.
    const res = await userControl(t).events([shown(decisions[0]), shown(decisions[3]), shown(decisions[4]), shown(service), shown(decisions.at(-1))])
    expect(res.body.rejected).toEqual([
      { index: 0, reason: 'unknown_decision' },
      { index: 1, reason: 'unknown_decision' },
      { index: 3, reason: 'unknown_decision' }
    ])
    if (kind === 'redis') {
      const redis = rawRedis()
      try {
        expect(await redis.strlen(userKeys(t.prefix, userTag('user-1')).ledger)).toBe(MAX_LEDGER_RECORDS * RECORD_LENGTH)
      } finally {
        redis.disconnect()
      }
    }
  })

  it('keeps at most 64 idempotency records: the 65th keeps the 32 newest; each lasts 10 minutes', async () => {
    const clock = new TestClock()
    t = await testApp(kind, { policy: policy(), campaigns: CAMPAIGNS }, { clock })
    const first = new Map<number, string>()
    for (let i = 1; i <= MAX_REPLIES + 1; i++) {
      first.set(i, (await ask('a', { requestId: `r-${i}` })).decisionId)
      clock.advance(1)
    }
    const replayOf = async (i: number) => (await ask('a', { requestId: `r-${i}` })).decisionId
    expect(await replayOf(MAX_REPLIES + 1)).toBe(first.get(MAX_REPLIES + 1))
    expect(await replayOf(MAX_REPLIES + 2 - REPLIES_KEPT)).toBe(first.get(MAX_REPLIES + 2 - REPLIES_KEPT))
    expect(await replayOf(MAX_REPLIES + 1 - REPLIES_KEPT)).not.toBe(first.get(MAX_REPLIES + 1 - REPLIES_KEPT))
    if (kind === 'redis') {
      const redis = rawRedis()
      try {
        const replies = userKeys(t.prefix, userTag('user-1')).replies
        expect(await redis.hlen(replies)).toBe(REPLIES_KEPT + 1)
        expect(await redis.pttl(replies)).toBeGreaterThan(0)
      } finally {
        redis.disconnect()
      }
    }
    clock.advance(10 * 60_000)
    expect(await replayOf(MAX_REPLIES + 1)).not.toBe(first.get(MAX_REPLIES + 1))
  })

  it('remembers the newest 512 applied events: an older one sent again counts again', async () => {
    t = await testApp(kind, { policy: policy(), campaigns: CAMPAIGNS })
    const types = ['shown', 'dismissed', 'clicked', 'converted', 'complained']
    const decisions: any[] = []
    for (let i = 0; i < Math.ceil((MAX_EVENT_LOG_RECORDS + 1) / types.length); i++) decisions.push(await ask('a'))
    const all = decisions.flatMap((d) => types.map((type) => ({ ...shown(d), type })))
    const api = userControl(t)
    for (let i = 0; i < all.length; i += 500) expect((await api.events(all.slice(i, i + 500))).body.rejected).toEqual([])
    const again = await api.events([all[0], all.at(-1)])
    expect(again.body).toEqual({ accepted: 1, rejected: [{ index: 1, reason: 'duplicate' }] })
  })
})
