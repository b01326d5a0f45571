import type { Redis } from 'ioredis'

/** This host's wall clock in ms with sub-ms resolution, steady between samples of Redis's. */
export const localMs = (): number => performance.timeOrigin + performance.now()

const SAMPLES_KEPT = 8

/**
 * Redis's clock (TIME) as seen from this host, to give scripts a deadline in Redis's own clock.
 * A sample brackets a TIME reply between its send and its receipt, so the offset lies in
 * [TIME - received, TIME - sent]; the low end is used (Redis read its clock as late as it could
 * have), so a converted deadline is never later than meant, at most one round trip earlier. Of
 * the last few samples, the one with the shortest round trip counts: a sample taken while the
 * event loop lagged is wide and loses. In a Redis Cluster every master is asked and the lowest
 * offset counts, for the same reason. A sample slower than maxRttMs is not kept at all: its error
 * would be as large as its round trip.
 */
export class RedisClock {
  private readonly samples: { low: number, rtt: number }[] = []
  private best: number | null = null

  constructor (private readonly maxRttMs: number) {}

  /** Redis's clock minus this host's (ms), or null before the first sample. */
  get offsetMs (): number | null {
    return this.best
  }

  /** A local instant (localMs) in Redis's clock, floored; 0 (no deadline) before the first sample. */
  toRedis (local: number): number {
    return this.best === null ? 0 : Math.floor(local + this.best)
  }

  /** Asks every given node for TIME; a node that fails, or answers too slowly, leaves the estimate as it was. */
  async sample (nodes: Redis[]): Promise<void> {
    const readings = await Promise.all(nodes.map(async (node) => {
      const sent = localMs()
      const [sec, usec] = await node.time()
      const received = localMs()
      return { low: Number(sec) * 1000 + Number(usec) / 1000 - received, rtt: received - sent }
    }))
    if (readings.length === 0 || readings.some((r) => !Number.isFinite(r.low))) return
    const rtt = Math.max(...readings.map((r) => r.rtt))
    if (rtt > this.maxRttMs) return
    this.samples.push({ low: Math.min(...readings.map((r) => r.low)), rtt })
    if (this.samples.length > SAMPLES_KEPT) this.samples.shift()
    this.best = this.samples.reduce((a, b) => b.rtt < a.rtt ? b : a).low
  }
}
