import { createHash } from 'node:crypto'
import type { Cohort } from './types.js'

/** A stable cohort: the same user and salt always land in the same one. */
export function cohortOf (userId: string, holdout: { percent: number, salt: string } | null): Cohort {
  if (holdout === null) return 'treated'
  const digest = createHash('sha256').update(holdout.salt).update('\0').update(userId).digest()
  const bucket = digest.readUInt32BE(0) / 0x1_0000_0000 * 100
  return bucket < holdout.percent ? 'holdout' : 'treated'
}
