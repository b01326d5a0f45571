/**
 * Time-zone names are strings the client chooses: any spelling of a zone lands on one cache
 * entry (its canonical name) and gives the same answers; invalid names stay 400s and leave a
 * bounded trace.
 */
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { calendarDayBounds, canonicalTimeZone, MAX_INVALID_ZONE_NAMES, secondsLeftInWindow, zoneCacheSizes } from '../../src/rules/time.js'
import { campaign, policy, TestClock, testApp, type TestApp } from '../helpers/app.js'

const randomCase = (name: string): string => [...name].map((ch) => Math.random() < 0.5 ? ch.toLowerCase() : ch.toUpperCase()).join('')
const NOW = Date.parse('2026-03-29T00:30:00Z') // a DST change in Europe: the day bounds are not trivial

describe('time-zone names', () => {
  it('resolve any letter case to the canonical name, with one cache entry per zone', () => {
    expect(canonicalTimeZone('Europe/Berlin')).toBe('Europe/Berlin')
    expect(canonicalTimeZone('America/New_York')).toBe('America/New_York')
    const before = zoneCacheSizes()
    for (let i = 0; i < 1000; i++) {
      expect(canonicalTimeZone(randomCase('Europe/Berlin'))).toBe('Europe/Berlin')
      expect(canonicalTimeZone(randomCase('America/New_York'))).toBe('America/New_York')
    }
    const after = zoneCacheSizes()
    expect(after.formatters).toBe(before.formatters)
    expect(after.names - before.names).toBeLessThanOrEqual(2) // the two lower-case spellings, once each
  })

  it('give the same day bounds and quiet-hour answers in any spelling, and for an alias as for its zone', () => {
    const berlin = calendarDayBounds(NOW, 'Europe/Berlin')
    expect(berlin.end - berlin.start).toBe(23 * 3_600_000)
    for (let i = 0; i < 20; i++) {
      const zone = canonicalTimeZone(randomCase('Europe/Berlin')) ?? ''
      expect(calendarDayBounds(NOW, zone)).toEqual(berlin)
      expect(secondsLeftInWindow(NOW, zone, 0, 120)).toBe(secondsLeftInWindow(NOW, 'Europe/Berlin', 0, 120))
    }
    const alias = canonicalTimeZone('us/eastern')
    expect(alias).not.toBeNull()
    expect(calendarDayBounds(NOW, alias ?? '')).toEqual(calendarDayBounds(NOW, 'America/New_York'))
  })

  it('are refused when invalid, at bounded cost: offsets, junk and unknown names leave at most a small negative cache', () => {
    for (const bad of ['+05:00', 'Z', '../../etc', 'Asia/Shanghai/', '', 'Mars/Olympus_Mons']) expect(canonicalTimeZone(bad)).toBeNull()
    for (let i = 0; i < 3 * MAX_INVALID_ZONE_NAMES; i++) expect(canonicalTimeZone('Zone/' + randomBytes(4).toString('hex'))).toBeNull()
    const sizes = zoneCacheSizes()
    expect(sizes.invalid).toBeLessThanOrEqual(MAX_INVALID_ZONE_NAMES)
    expect(sizes.formatters).toBeLessThan(50) // only real zones ever get a formatter
  })
})

describe('time zones sent to POST /v1/decide', () => {
  let t: TestApp
  const clock = new TestClock(Date.parse('2026-06-01T21:30:00Z')) // 23:30 in Berlin: quiet hours
  beforeAll(async () => {
    t = await testApp('memory', { policy: policy({ quietHours: { start: '22:00', end: '08:00' } }), campaigns: [campaign('a')] }, { clock })
  })
  afterAll(async () => { await t.close() })
  const ask = (timezone: string) => t.decide({ userId: `u-${timezone}`, placement: 'home', candidates: [{ campaignId: 'a' }], context: { timezone } })

  it('answer a random-case zone exactly as its canonical name, and reject an invalid one with 400', async () => {
    const canonical = await ask('Europe/Berlin')
    expect(canonical.body.candidates[0]).toMatchObject({ reason: 'quiet_hours', retryAfterSeconds: 8.5 * 3600 })
    for (let i = 0; i < 20; i++) {
      const answer = await ask(randomCase('Europe/Berlin'))
      expect(answer.status).toBe(200)
      expect(answer.body.candidates).toEqual(canonical.body.candidates)
    }
    const bad = await ask('Europe/Atlantis')
    expect(bad.status).toBe(400)
    expect(bad.body.error).toBeTypeOf('string')
  })
})
