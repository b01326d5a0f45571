import { describe, expect, it } from 'vitest'
import { AdmissionShare } from '../src/plugins/shed-gate.js'

// The admission share's rules, fed delays directly (no timers): what the load-shedding gate does with
// the loop delay it measures. test/load-shedding.test.ts shows it on a real loop.
describe('admission share (loop-delay shedding)', () => {
  const admittedOf = (share: AdmissionShare, n: number): number => Array.from({ length: n }, () => share.admit()).filter(Boolean).length

  it('admits everything while the loop is on time', () => {
    const share = new AdmissionShare(10)
    for (let k = 0; k < 50; k++) share.observe(k % 10)
    expect(share.share).toBe(1)
    expect(admittedOf(share, 1000)).toBe(1000)
  })

  it('ignores one late tick (a pause) and halves the share on two in a row (a queue)', () => {
    const share = new AdmissionShare(10)
    share.observe(40)
    expect(share.share).toBe(1)
    share.observe(0)
    share.observe(40)
    expect(share.share).toBe(1)
    share.observe(11)
    expect(share.share).toBe(0.5)
    share.observe(25)
    expect(share.share).toBe(0.25)
  })

  it('spreads the admitted share evenly and never goes below a trickle', () => {
    const share = new AdmissionShare(10)
    for (let k = 0; k < 3; k++) share.observe(50)
    expect(share.share).toBe(0.25)
    const pattern = Array.from({ length: 12 }, () => share.admit())
    expect(pattern.filter(Boolean).length).toBe(3)
    // Every fourth request, not three in a row then nine refused.
    expect(pattern.map((a) => (a ? 'x' : '.')).join('')).toBe('...x...x...x')
    for (let k = 0; k < 100; k++) share.observe(500)
    expect(share.share).toBeGreaterThan(0)
    expect(admittedOf(share, 1000)).toBeGreaterThanOrEqual(10)
  })

  it('gives the share back step by step once the loop is on time again: all of it within half a second of ticks', () => {
    const share = new AdmissionShare(10)
    for (let k = 0; k < 100; k++) share.observe(500)
    const low = share.share
    share.observe(0)
    expect(share.share).toBeCloseTo(low + 0.02, 10)
    for (let k = 0; k < 49; k++) share.observe(0)
    expect(share.share).toBe(1)
  })
})
