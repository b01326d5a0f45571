import { describe, expect, it } from 'vitest'
import { holdoutReduction } from '../../src/rules/reports/holdout.js'

describe('the holdout reduction', () => {
  // 1000 treated users saw 200 marketing pop-ups (0.2 each); 100 holdout users saw 80 (0.8 each):
  // treated users see a quarter of what they would have, a 75% reduction.
  const treated = { users: 1000, shown: 200 }
  const holdout = { users: 100, shown: 80 }

  it('is 1 - treated per user / holdout per user, with the users behind each cohort', () => {
    const r = holdoutReduction(treated, holdout, 0)
    expect(r.reduction).toBeCloseTo(0.75, 12)
    expect(r.treated).toEqual({ users: 1000, shown: 200, perUser: 0.2, usersDropped: 0 })
    expect(r.holdout).toEqual({ users: 100, shown: 80, perUser: 0.8, usersDropped: 0 })
  })

  it('has a 95% interval from the Poisson log rate ratio (worked by hand in docs/reports.md terms)', () => {
    // se = sqrt(1/200 + 1/80); 1 - exp(ln 0.25 ± 1.96 se)
    const r = holdoutReduction(treated, holdout, 0)
    expect(r.ci95?.low).toBeCloseTo(0.676001, 5)
    expect(r.ci95?.high).toBeCloseTo(0.807098, 5)
  })

  it('widens the interval by the HyperLogLog error of both user counts', () => {
    const r = holdoutReduction(treated, holdout)
    expect(r.ci95?.low).toBeCloseTo(0.675687, 5)
    expect(r.ci95?.high).toBeCloseTo(0.807285, 5)
  })

  it('gives no figure without holdout impressions, and no interval without treated ones', () => {
    expect(holdoutReduction(treated, { users: 100, shown: 0 })).toMatchObject({ reduction: null, ci95: null })
    expect(holdoutReduction({ users: 0, shown: 0 }, holdout)).toMatchObject({ reduction: null, ci95: null })
    expect(holdoutReduction({ users: 1000, shown: 0 }, holdout)).toMatchObject({ reduction: 1, ci95: null })
  })
})
