import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AUTH, campaign, policy, testApp, type TestApp } from './helpers/app.js'

const EVENT = { decisionId: '0b6f3c1e-8a43-4a8e-9d61-2f5d7c9a1b20', userId: 'u-messages', campaignId: 'a', type: 'shown' }

describe('validation messages', () => {
  let t: TestApp
  beforeAll(async () => { t = await testApp('memory', { policy: policy(), campaigns: [campaign('a')] }) })
  afterAll(async () => { await t.close() })

  it('name the allowed values of a wrong enum once, instead of one "equal to constant" per value', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/v1/events', headers: AUTH, payload: { events: [{ ...EVENT, type: 'viewed' }] } })
    expect(res.statusCode).toBe(400)
    const body = res.json()
    const allowed = 'must be one of: shown, discarded, dismissed, clicked, converted, complained'
    expect(body.message).toBe(`invalid body /events/0/type: ${allowed}`)
    expect(body.details).toEqual([{ path: '/events/0/type', message: allowed }])
  })

  it('name the allowed types of a nullable field', async () => {
    const res = await t.app.inject({ method: 'PUT', url: '/v1/users/u-messages/preferences', headers: { authorization: 'Bearer dev-preferences-key' }, payload: { marketing: 'on', snoozeUntil: 5 } })
    expect(res.statusCode).toBe(400)
    expect(res.json().details).toEqual([{ path: '/snoozeUntil', message: 'must be string or null' }])
  })

  it('keep the message of a branch that failed deeper than its type (a bad date in a date-or-null field)', async () => {
    const res = await t.app.inject({ method: 'PUT', url: '/v1/users/u-messages/preferences', headers: { authorization: 'Bearer dev-preferences-key' }, payload: { marketing: 'on', snoozeUntil: 'next tuesday' } })
    expect(res.statusCode).toBe(400)
    expect(res.json().details[0]).toEqual({ path: '/snoozeUntil', message: 'must match format "date-time"' })
  })

  it('keep the other messages as Ajv words them', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/v1/decide', headers: AUTH, payload: { userId: 'u', placement: 'home', candidates: [] } })
    expect(res.json().details).toEqual([{ path: '/candidates', message: 'must NOT have fewer than 1 items' }])
  })
})
