import { describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.js'
import { ConfigError, loadConfig } from '../../src/config/config.js'
import { RedisGovernanceStore } from '../../src/redis/governance/redis-governance-store.js'
import { AUTH, campaign, policy, redisStore, testConfig } from '../helpers/app.js'
import { ADMIN } from './helpers.js'

describe('POPGUARD_POLICY_OVERWRITE', () => {
  it('is off unless set to true', () => {
    expect(loadConfig({}).policyOverwrite).toBe(false)
    expect(loadConfig({ POPGUARD_POLICY_OVERWRITE: 'false' }).policyOverwrite).toBe(false)
    expect(loadConfig({ POPGUARD_POLICY_OVERWRITE: 'true' }).policyOverwrite).toBe(true)
  })

  it('stops the start on any other value, naming the variable', () => {
    expect(() => loadConfig({ POPGUARD_POLICY_OVERWRITE: 'yes' })).toThrow(ConfigError)
    expect(() => loadConfig({ POPGUARD_POLICY_OVERWRITE: 'yes' })).toThrow(/POPGUARD_POLICY_OVERWRITE/)
  })
})

describe('boot with the store down', () => {
  it('starts on the policy file (version 0), decides, and answers admin reads with 503', async () => {
    const dead = 'redis://127.0.0.1:1'
    const app = await buildApp(testConfig(), {
      policy: { policy: policy(), campaigns: [campaign('a')] },
      store: redisStore('pg:dead:', dead),
      governance: new RedisGovernanceStore({ url: dead, commandTimeoutMs: 50 }, { onConnectionError: () => {} })
    })
    try {
      const decided = await app.inject({ method: 'POST', url: '/v1/decide', headers: AUTH, payload: { userId: 'u', placement: 'p', candidates: [{ campaignId: 'a' }] } })
      expect(decided.json()).toMatchObject({ policyVersion: 0, candidates: [{ campaignId: 'a', reason: 'degraded' }] })
      const read = await app.inject({ method: 'GET', url: '/v1/policy', headers: ADMIN })
      expect(read.statusCode).toBe(503)
      expect(read.json().error).toBe('unavailable')
    } finally {
      await app.close()
    }
  })
})
