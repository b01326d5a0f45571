/**
 * Stops calling a store that keeps failing, so a dead Redis costs nothing per request.
 * closed → (threshold consecutive failures) → open → (after openMs) → one trial call
 * (half-open) → closed on success, open again on failure.
 */
export type BreakerState = 'closed' | 'open' | 'half_open'

export class CircuitBreaker {
  private failures = 0
  private openedAt = 0
  private trialInFlight = false
  state: BreakerState = 'closed'

  constructor (
    private readonly threshold: number,
    private readonly openMs: number,
    private readonly onChange: (state: BreakerState) => void = () => {}
  ) {}

  /** Whether a call may go to the store now. */
  allows (now = Date.now()): boolean {
    if (this.state === 'closed') return true
    if (this.state === 'open' && now - this.openedAt >= this.openMs) this.set('half_open')
    if (this.state === 'half_open' && !this.trialInFlight) {
      this.trialInFlight = true
      return true
    }
    return false
  }

  succeeded (): void {
    this.failures = 0
    this.trialInFlight = false
    if (this.state !== 'closed') this.set('closed')
  }

  failed (now = Date.now()): void {
    this.failures++
    this.trialInFlight = false
    if (this.state === 'half_open' || this.failures >= this.threshold) {
      this.openedAt = now
      if (this.state !== 'open') this.set('open')
    }
  }

  private set (state: BreakerState): void {
    this.state = state
    this.onChange(state)
  }
}
