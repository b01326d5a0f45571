/** Which lines the simulator reads, skips, or counts as malformed. */
import { describe, expect, it } from 'vitest'
import { LineError, parseLogLine } from '../../src/simulate/log-line.js'

const decision = { event: 'decision', decisionId: 'd1', user: 'u1', placement: 'home', candidates: [{ campaignId: 'a', allowed: true, reason: 'eligible' }], at: 5 }

describe('parseLogLine', () => {
  it('reads decision lines however they are spaced, and events lines with items', () => {
    expect(parseLogLine(JSON.stringify(decision))).toMatchObject({ kind: 'decision', user: 'u1', at: 5, cohort: 'treated' })
    expect(parseLogLine(JSON.stringify(decision, null, 1).replace(/\n/g, ' '))).toMatchObject({ kind: 'decision' })
    const events = { event: 'events', at: 9, items: [{ user: 'u1', decisionId: 'd1', campaignId: 'a', type: 'shown', outcome: 'accepted' }] }
    expect(parseLogLine(JSON.stringify(events))).toEqual({ kind: 'events', at: 9, items: [{ ...events.items[0], at: 9 }] })
  })

  it('skips other lines, and events lines written before events were itemised', () => {
    expect(parseLogLine('{"level":30,"msg":"request completed","reqId":"r1"}')).toBeNull()
    expect(parseLogLine('{"event":"events","received":3,"at":1}')).toBeNull()
    expect(parseLogLine('   ')).toBeNull()
    // White space as String.prototype.trim sees it (no-break space, BOM, line separator), and access
    // lines with trailing white space.
    expect(parseLogLine('\u00a0\t\ufeff\u2028 ')).toBeNull()
    expect(parseLogLine('{"level":30,"msg":"request completed"}\u00a0\r')).toBeNull()
    expect(() => parseLogLine('{"level":30,"msg":"request completed"} x')).toThrow('not JSON')
  })

  it('names what is wrong with a malformed line', () => {
    expect(() => parseLogLine('{"event":"decision",')).toThrow(LineError)
    expect(() => parseLogLine('plain text')).toThrow('not JSON')
    expect(() => parseLogLine(JSON.stringify({ ...decision, user: 7 }))).toThrow('needs user, decisionId, placement and candidates')
    expect(() => parseLogLine(JSON.stringify({ ...decision, at: undefined }))).toThrow('no time')
    expect(() => parseLogLine(JSON.stringify({ ...decision, candidates: [{ campaignId: 'a' }] }))).toThrow('candidates[0]')
  })
})
