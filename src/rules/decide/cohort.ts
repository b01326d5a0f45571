import { hash } from 'node:crypto'
import type { Cohort } from './types.js'

/** A stable cohort: the same user and salt always land in the same one. */
export function cohortOf (userId: string, holdout: { percent: number, salt: string } | null): Cohort {
  if (holdout === null) return 'treated'
  // One-shot hash: no Hash object per decision. The first 32 bits of sha256(salt \0 userId).
  const digest = hash('sha256', holdout.salt + '\0' + userId, 'hex')
  const bucket = parseInt(digest.slice(0, 8), 16) / 0x1_0000_0000 * 100
  return bucket < holdout.percent ? 'holdout' : 'treated'
}
