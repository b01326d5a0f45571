import { describe, expect, it } from 'vitest'
import { calendarDayBounds, isValidTimeZone, secondsLeftInWindow } from '../src/rules/time.js'

describe('local time in IANA zones', () => {
  it('finds the local day of a zone far ahead of UTC', () => {
    // 2026-06-01 11:00 UTC is 23:00 on June 1 in Kiritimati (UTC+14).
    const { start, end } = calendarDayBounds(Date.parse('2026-06-01T09:00:00Z'), 'Pacific/Kiritimati')
    expect(new Date(start).toISOString()).toBe('2026-05-31T10:00:00.000Z')
    expect(new Date(end).toISOString()).toBe('2026-06-01T10:00:00.000Z')
  })

  it('has a 23-hour day when clocks spring forward and a 25-hour one when they fall back', () => {
    const spring = calendarDayBounds(Date.parse('2026-03-29T12:00:00Z'), 'Europe/Berlin')
    expect((spring.end - spring.start) / 3_600_000).toBe(23)
    const autumn = calendarDayBounds(Date.parse('2026-10-25T12:00:00Z'), 'Europe/Berlin')
    expect((autumn.end - autumn.start) / 3_600_000).toBe(25)
    expect(new Date(autumn.start).toISOString()).toBe('2026-10-24T22:00:00.000Z')
  })

  it('gives the next day once midnight passes, and the earlier day when the clock goes back, in each zone apart', () => {
    const lateEvening = Date.parse('2026-06-01T15:59:59.999Z') // 23:59:59.999 in Shanghai
    const day = calendarDayBounds(lateEvening, 'Asia/Shanghai')
    expect(new Date(day.start).toISOString()).toBe('2026-05-31T16:00:00.000Z')
    const next = calendarDayBounds(lateEvening + 1, 'Asia/Shanghai')
    expect(new Date(next.start).toISOString()).toBe('2026-06-01T16:00:00.000Z')
    expect(new Date(next.end).toISOString()).toBe('2026-06-02T16:00:00.000Z')
    expect(new Date(calendarDayBounds(lateEvening + 1, 'Europe/Berlin').start).toISOString()).toBe('2026-05-31T22:00:00.000Z')
    expect(calendarDayBounds(lateEvening, 'Asia/Shanghai').start).toBe(day.start)
  })

  it('counts the seconds left in a quiet window that crosses midnight, and 0 outside it', () => {
    const at = (iso: string) => secondsLeftInWindow(Date.parse(iso), 'UTC', 22 * 60, 8 * 60)
    expect(at('2026-06-01T23:00:00Z')).toBe(9 * 3600)
    expect(at('2026-06-01T07:59:30Z')).toBe(30)
    expect(at('2026-06-01T08:00:00Z')).toBe(0)
    expect(at('2026-06-01T21:59:59Z')).toBe(0)
    expect(at('2026-06-01T22:00:00Z')).toBe(10 * 3600)
  })

  it('knows real zones from made-up ones', () => {
    expect(isValidTimeZone('America/Sao_Paulo')).toBe(true)
    expect(isValidTimeZone('Not/AZone')).toBe(false)
  })
})
