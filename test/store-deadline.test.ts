/**
 * The store deadline, with Redis healthy but slow to reach: a decision the client gave up on
 * records nothing, and an answer Redis gave in time is not thrown away because the event loop
 * was busy. A private redis-server: these tests pause it.
 */
import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { userTag, campaign, policy, uniquePrefix } from './helpers/app.js'
import { planDecision } from '../src/rules/decide/plan.js'
import { compilePolicy } from '../src/rules/policy/compile.js'
import { clientTimeoutFor } from '../src/redis/deadline.js'
import { userKeys } from '../src/redis/keys.js'
import { USER_SCRIPTS } from '../src/redis/user-store/scripts.js'
import { encodePlan } from '../src/redis/user-store/plan-wire.js'
import { createRedisClient } from '../src/redis/connection.js'
import { RedisStore } from '../src/redis/user-store/redis-user-store.js'
import type { StoreCallResult } from '../src/redis/store-faults.js'
import { StoreUnavailableError } from '../src/store/user-store.js'
import { startRedisServer, type RedisServer } from './helpers/redis-server.js'

const compiled = compilePolicy(policy(), [campaign('a')], 1)
const planFor = (userId: string, requestId?: string) => planDecision(
  { userId, placement: 'home', candidates: [{ campaignId: 'a' }], ...(requestId === undefined ? {} : { requestId }) },
  compiled, 'UTC', { now: Date.now(), decisionId: randomUUID(), enforce: true, echo: '[1,"enforce","treated"]' })

describe('the store deadline', () => {
  let server: RedisServer
  let admin: Redis
  const prefix = uniquePrefix()
  const results: StoreCallResult[] = []
  const storeWithin = async (timeoutMs: number): Promise<RedisStore> => {
    const store = new RedisStore(createRedisClient({ url: server.url, commandTimeoutMs: clientTimeoutFor(timeoutMs) }), {
      keyPrefix: prefix, timeoutMs, onConnectionError: () => {}, onCall: (_op, _s, result) => results.push(result)
    })
    expect(await store.waitUntilReady(2000)).toBe(true)
    while (store.clock.offsetMs === null) await store.ping()
    return store
  }
  const keysOf = (userId: string) => userKeys(prefix, userTag(userId))

  beforeAll(async () => {
    server = await startRedisServer()
    admin = new Redis(server.url)
  })
  afterAll(async () => {
    admin?.disconnect()
    await server?.stop()
  })

  it('a script given a deadline already past records nothing and says it was late', async () => {
    const plan = planFor('late-by-design', 'req-1')
    const k = keysOf('late-by-design')
    const lua = USER_SCRIPTS.pgDecide.lua
    expect(await admin.eval(lua, 4, k.ledger, k.prefs, k.fatigue, k.replies, encodePlan(plan, 1))).toEqual([2, ''])
    expect(await admin.exists(k.ledger, k.replies)).toBe(0)
    // The same plan in time records the impression and the answer.
    const [status] = await admin.eval(lua, 4, k.ledger, k.prefs, k.fatigue, k.replies, encodePlan(plan, Date.now() + 60_000)) as [number, string]
    expect(status).toBe(0)
    expect(await admin.exists(k.ledger, k.replies)).toBe(2)
  })

  it('a decision the client gave up on records nothing, and its retry is decided afresh', async () => {
    const store = await storeWithin(100)
    try {
      await admin.client('PAUSE', 400, 'ALL')
      const plan = planFor('given-up', 'req-1')
      await expect(store.decide(userTag('given-up'), plan)).rejects.toThrow(StoreUnavailableError)
      await new Promise((resolve) => setTimeout(resolve, 600)) // the pause ends; the script runs, late
      expect(await admin.exists(keysOf('given-up').ledger, keysOf('given-up').replies)).toBe(0)
      const retry = await store.decide(userTag('given-up'), { ...planFor('given-up', 'req-1'), decisionId: randomUUID() })
      expect(retry.replayed).toBe(false)
      expect(retry.winner).toBe(0)
    } finally {
      await store.close()
    }
  })

  it('a script that starts late but answers before the client gives up is refused, and counted as late', async () => {
    const store = await storeWithin(3000)
    results.length = 0
    try {
      // The script's deadline is 2400 ms after the call; Redis holds it about 2700 ms, the client waits 3000.
      await admin.client('PAUSE', 2700, 'ALL')
      await expect(store.decide(userTag('late-answer'), planFor('late-answer'))).rejects.toThrow(/deadline/)
      expect(results).toEqual(['late'])
      expect(await admin.exists(keysOf('late-answer').ledger)).toBe(0)
      expect(store.breaker.state).toBe('closed')
    } finally {
      await store.close()
    }
  })

  it('an answer Redis gave in time is used even when the event loop was busy past the deadline', async () => {
    const store = await storeWithin(100)
    try {
      const pending = store.decide(userTag('stalled'), planFor('stalled'))
      const until = performance.now() + 400
      while (performance.now() < until) { /* the event loop is stalled, as under load; Redis answers meanwhile */ }
      const outcome = await pending
      expect(outcome.winner).toBe(0)
      expect((await admin.strlen(keysOf('stalled').ledger)) / 36).toBe(1) // recorded once, and the client knows it
    } finally {
      await store.close()
    }
  })
})
