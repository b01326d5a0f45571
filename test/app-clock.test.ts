import { afterAll, describe, expect, it } from 'vitest'
import { buildApp } from '../src/app.js'
import { PREFERENCES_TTL_MS } from '../src/rules/users/preferences.js'
import { DAY_MS } from '../src/rules/time.js'
import { campaign, policy, TestClock, testConfig } from './helpers/app.js'

const PREFS = { authorization: 'Bearer dev-preferences-key' }

describe('the clock given to buildApp', () => {
  // No store given and no REDIS_URL: the app builds its own memory store, which must keep the app's time.
  const clock = new TestClock()
  const built = buildApp(testConfig({ redis: null }), { policy: { policy: policy(), campaigns: [campaign('a')] }, clock: clock.now })
  afterAll(async () => { await (await built).close() })

  it('reaches the memory store the app builds itself: preferences expire by it', async () => {
    const app = await built
    const url = '/v1/users/u-clock/preferences'
    const put = await app.inject({ method: 'PUT', url, headers: PREFS, payload: { marketing: 'off' } })
    expect(put.statusCode).toBe(200)
    expect((await app.inject({ method: 'GET', url, headers: PREFS })).json()).toMatchObject({ marketing: 'off' })

    clock.advance(PREFERENCES_TTL_MS + DAY_MS)
    expect((await app.inject({ method: 'GET', url, headers: PREFS })).json()).toMatchObject({ marketing: 'on' })
  })
})
