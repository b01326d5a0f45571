/**
 * The user's tag in Redis keys is keyed: knowing a user id is not enough to find that user's
 * keys, and a tag cannot be turned back into an id by guessing ids.
 */
import { hash } from 'node:crypto'
import { describe, expect, inject, it } from 'vitest'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config/config.js'
import { userTagger } from '../../src/rules/decide/codes.js'
import { AUTH, campaign, policy, rawRedis, testConfig, uniquePrefix } from '../helpers/app.js'

const unkeyedTag = (userId: string): string => hash('sha256', userId, 'base64url').slice(0, 16)

describe('user tags in store keys', () => {
  it('differ with the key, not only with the user id', () => {
    const a = userTagger('first-secret-of-16+')
    const b = userTagger('second-secret-of-16+')
    expect(a('alice')).toBe(a('alice'))
    expect(a('alice')).not.toBe(b('alice'))
    expect(a('alice')).not.toBe(a('bob'))
    expect(a('alice')).not.toBe(unkeyedTag('alice'))
    expect(a('alice')).toMatch(/^[A-Za-z0-9_-]{16}$/)
  })

  it('come from POPGUARD_USER_KEY, else from the log key, never equal to the log pseudonym', () => {
    const fromLogKey = loadConfig({ POPGUARD_LOG_KEY: 'log-key-0123456789' })
    const rotatedLogKey = loadConfig({ POPGUARD_LOG_KEY: 'new-log-key-0123456789', POPGUARD_USER_KEY: 'log-key-0123456789' })
    expect(userTagger(rotatedLogKey.userKey)('alice')).toBe(userTagger(fromLogKey.userKey)('alice'))
    expect(userTagger(loadConfig({ POPGUARD_LOG_KEY: 'new-log-key-0123456789' }).userKey)('alice')).not.toBe(userTagger(fromLogKey.userKey)('alice'))
  })

  it('are what the Redis keys of decisions, events and preferences carry: another key finds nothing, the unkeyed hash finds nothing', async () => {
    const prefix = uniquePrefix()
    const userKey = 'this-deployment-user-key'
    const app = await buildApp(testConfig({ redis: { url: inject('redisUrl'), commandTimeoutMs: 500 }, keyPrefix: prefix, userKey }), {
      policy: { policy: policy(), campaigns: [campaign('a')] }
    })
    const redis = rawRedis()
    try {
      const decided = await app.inject({ method: 'POST', url: '/v1/decide', headers: AUTH, payload: { userId: 'alice', placement: 'home', candidates: [{ campaignId: 'a' }], requestId: 'r1' } })
      const event = { decisionId: decided.json().decisionId, userId: 'alice', campaignId: 'a', type: 'shown' }
      expect((await app.inject({ method: 'POST', url: '/v1/events', headers: AUTH, payload: { events: [event] } })).json().accepted).toBe(1)
      const prefs = await app.inject({ method: 'PUT', url: '/v1/users/alice/preferences', headers: { authorization: 'Bearer dev-preferences-key' }, payload: { marketing: 'off' } })
      expect(prefs.statusCode).toBe(200)

      const keysOf = async (tag: string) => (await redis.keys(`${prefix}{u:${tag}}:*`)).map((k) => k.slice(k.indexOf('}:') + 2)).sort()
      expect(await keysOf(userTagger(userKey)('alice'))).toEqual(['e', 'h', 'l', 'p', 'q']) // h: the preference history
      expect(await keysOf(userTagger(testConfig().userKey)('alice'))).toEqual([])
      expect(await keysOf(unkeyedTag('alice'))).toEqual([])
    } finally {
      redis.disconnect()
      await app.close()
    }
  })
})
