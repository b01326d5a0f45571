/**
 * A token bucket per API key: `perSecond` tokens a second, holding at most `perSecond` (one second's
 * burst). Each instance keeps its own; keys come from configuration, so the map stays small.
 */
export class KeyedTokenBucket {
  private readonly buckets = new Map<string, { tokens: number, at: number }>()

  constructor (private readonly perSecond: number, private readonly clock: () => number = () => performance.now()) {}

  /** Takes a token for `key`: 0 when one was there, else the ms until one will be. */
  take (key: string): number {
    const now = this.clock()
    const bucket = this.buckets.get(key) ?? { tokens: this.perSecond, at: now }
    bucket.tokens = Math.min(this.perSecond, bucket.tokens + (now - bucket.at) * this.perSecond / 1000)
    bucket.at = now
    this.buckets.set(key, bucket)
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1
      return 0
    }
    return (1 - bucket.tokens) * 1000 / this.perSecond
  }
}
