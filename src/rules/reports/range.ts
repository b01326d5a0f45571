import { ValidationError } from '../errors.js'
import { dayCount, daysBetween } from './day.js'

export const MAX_REPORT_DAYS = 400

/** The days of a report query; a bad range is a 400 naming the field. */
export function reportDays (from: string, to: string): string[] {
  const count = dayCount(from, to)
  if (Number.isNaN(count)) throw new ValidationError('from and to must be real calendar days', [{ path: '/from', message: 'not a calendar day' }])
  if (count < 1) throw new ValidationError('from must not be after to', [{ path: '/to', message: 'before from' }])
  if (count > MAX_REPORT_DAYS) throw new ValidationError(`a report spans at most ${MAX_REPORT_DAYS} days`, [{ path: '/to', message: `more than ${MAX_REPORT_DAYS} days after from` }])
  return daysBetween(from, to)
}
