/**
 * What a client key can send cannot hang Redis, make a script fail, or open the circuit
 * breaker for everyone; and the scripts defend themselves against values no client can send.
 * A private redis-server: a regression here may hang it, and must not hang the suite's.
 */
import type { FastifyInstance } from 'fastify'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../src/app.js'
import { nameCode } from '../src/rules/decide/codes.js'
import { userTag, AUTH, campaign, policy, testConfig, uniquePrefix } from './helpers/app.js'
import { base36 } from '../src/rules/decide/limits.js'
import { userKeys } from '../src/redis/keys.js'
import { LEDGER_PRELUDE } from '../src/redis/user-store/scripts.js'
import type { RedisStore } from '../src/redis/user-store/redis-user-store.js'
import { scrape } from './helpers/metrics.js'
import { startRedisServer, type RedisServer } from './helpers/redis-server.js'
import { PREFS_AUTH } from './helpers/user-control.js'

const FILE = {
  policy: policy({ fatigue: { dismissals: 2, within: '3d', backoff: '7d' } }),
  campaigns: [campaign('a'), campaign('b')]
}

describe('hostile input against a real Redis', () => {
  let server: RedisServer
  let app: FastifyInstance
  let redis: Redis
  let prefix: string
  let users = 0
  const decide = async (userId = `user-${users++}`) => {
    const res = await app.inject({ method: 'POST', url: '/v1/decide', headers: AUTH, payload: { userId, placement: 'home', candidates: [{ campaignId: 'a' }] } })
    return res.json()
  }
  const events = async (list: unknown[]) => {
    const res = await app.inject({ method: 'POST', url: '/v1/events', headers: AUTH, payload: { events: list } })
    return { status: res.statusCode, body: res.json() }
  }
  /** Twenty fresh users decide: none may be degraded, and Redis answers at once. */
  const othersUnharmed = async () => {
    const answers = await Promise.all(Array.from({ length: 20 }, async () => await decide()))
    expect(answers.map((a) => a.candidates[0].reason)).toEqual(Array(20).fill('eligible'))
    expect(await redis.ping()).toBe('PONG')
    expect((app.store as RedisStore).breaker.state).toBe('closed')
  }

  beforeAll(async () => {
    server = await startRedisServer()
    redis = new Redis(server.url)
    prefix = uniquePrefix()
    app = await buildApp(testConfig({ redis: { url: server.url, commandTimeoutMs: 500 }, keyPrefix: prefix }), { policy: FILE })
  })
  afterAll(async () => {
    await app?.close()
    redis?.disconnect()
    await server?.stop()
  })

  it('refuses an event dated before 1970 with a 400 naming it, and Redis keeps answering', async () => {
    const d = await decide('victim')
    const event = { decisionId: d.decisionId, userId: 'victim', campaignId: 'a', type: 'dismissed' }
    const res = await events([event, { ...event, type: 'shown' }, event, { ...event, at: '1969-12-31T23:59:59.999Z' }])
    expect(res.status).toBe(400)
    expect(res.body).toMatchObject({ error: 'bad_request', details: [{ path: '/events/3/at' }] })
    await othersUnharmed()
  })

  it('refuses a leap second (valid RFC 3339, not a time Date.parse knows) with a 400 naming the field', async () => {
    const d = await decide('leaper')
    const res = await events([{ decisionId: d.decisionId, userId: 'leaper', campaignId: 'a', type: 'dismissed', at: '2016-12-31T23:59:60Z' }])
    expect(res.status).toBe(400)
    expect(res.body).toMatchObject({ error: 'bad_request', details: [{ path: '/events/0/at' }] })
    const prefs = await app.inject({ method: 'PUT', url: '/v1/users/leaper/preferences', headers: PREFS_AUTH, payload: { marketing: 'on', snoozeUntil: '2099-12-31T23:59:60Z' } })
    expect(prefs.statusCode).toBe(400)
    expect(prefs.json().details[0]).toEqual({ path: '/snoozeUntil', message: 'must match format "date-time"' })
  })

  it('leaves the breaker closed and other users served after a burst of bad event batches', async () => {
    const d = await decide('burster')
    for (let i = 0; i < 10; i++) {
      const at = i % 2 === 0 ? '2016-12-31T23:59:60Z' : '1969-12-31T23:59:59.999Z'
      expect((await events([{ decisionId: d.decisionId, userId: 'burster', campaignId: 'a', type: 'complained', at }])).status).toBe(400)
    }
    await othersUnharmed()
  })

  it('answers a script error by the fallback for that request only, counted apart, and never opens the breaker', async () => {
    // A key of the wrong type makes decide.lua fail for this one user: no client can do this, a bug or an operator could.
    await redis.hset(userKeys(prefix, userTag('corrupted')).ledger, 'not', 'a string')
    const before = await scrape(app)
    for (let i = 0; i < 10; i++) expect((await decide('corrupted')).candidates[0].reason).toBe('degraded')
    await othersUnharmed()
    const after = await scrape(app)
    expect(after.value('popguard_store_script_errors_total', { op: 'decide' }) - before.value('popguard_store_script_errors_total', { op: 'decide' })).toBe(10)
    expect(after.value('popguard_store_errors_total', { op: 'decide' }) - before.value('popguard_store_errors_total', { op: 'decide' })).toBe(0)
  })

  it('applies events whatever time the store is handed: before 1970, not a number, beyond 2059', async () => {
    const decisions = [await decide('direct'), await decide('direct'), await decide('direct'), await decide('direct')]
    const store = app.store as RedisStore
    let next = 0
    // A dismissal of a different decision each: every one reaches the fatigue code that encodes its time.
    const at = (ts: number) => ({ n: decisions[next++]!.decisionId.slice(0, 8), c: nameCode('campaign', 'a'), t: 'm' as const, ts })
    const outcomes = await store.applyEvents(userTag('direct'), {
      now: Date.now(),
      leaseMs: 600_000,
      releaseUnconfirmed: true,
      logHorizonMs: 86_400_000,
      logTtlMs: 86_400_000,
      fatigueTtlMs: 86_400_000,
      fatigue: { dismissals: 5, withinMs: 86_400_000, backoffMs: 86_400_000 },
      dayStartMs: NaN,
      dayEndMs: 1e300,
      events: [at(-1), at(NaN), at(1e300), at(-Infinity)]
    })
    expect(outcomes).toEqual({ outcomes: ['accepted', 'accepted', 'accepted', 'accepted'], dayShows: [0, 0, 0, 0] })
    const streak = await redis.hget(userKeys(prefix, userTag('direct')).fatigue, 'd:' + nameCode('campaign', 'a'))
    expect(streak).toMatch(/^[0-9a-z]{8}(,[0-9a-z]{8})*$/)
    await othersUnharmed()
  })

  it('writes any number as exactly 8 base-36 digits, in Lua as in TypeScript', async () => {
    const inputs = [-1, -1e300, 0, 1.9, 35, 36, 1_780_000_000_000, 36 ** 8 - 1, 36 ** 8, 1e300]
    const lua = LEDGER_PRELUDE + `
      local xs = cjson.decode(ARGV[1])
      local out = {}
      for i = 1, #xs do out[i] = base36(xs[i]) end
      out[#out + 1] = base36(0 / 0)
      out[#out + 1] = base36(math.huge)
      out[#out + 1] = base36(cjson.decode('[null]')[1])
      out[#out + 1] = base36('text')
      return out`
    const fromLua = await redis.eval(lua, 0, JSON.stringify(inputs)) as string[]
    // Whatever is not a finite number (NaN, infinity, JSON null, text) counts as 0.
    expect(fromLua).toEqual([...inputs.map(base36), base36(NaN), base36(Infinity), '00000000', '00000000'])
    expect(fromLua.slice(-4)).toEqual(['00000000', '00000000', '00000000', '00000000'])
    expect(fromLua.slice(0, 4)).toEqual(['00000000', '00000000', '00000000', '00000001'])
    expect(fromLua.slice(-6, -4)).toEqual(['zzzzzzzz', 'zzzzzzzz'])
  })
})
