import { getHeapStatistics } from 'node:v8'
import type { SheddingLimits } from '../config/config.js'

export type ShedReason = 'in_flight' | 'event_loop_delay' | 'heap'

/** How often the loop delay is measured, ms: a timer that fires late by more than the target means a queue. */
export const TICK_MS = 10
/** How often the heap is read, ms. */
const HEAP_EVERY_MS = 250
/** A delay over the target cuts the admitted share by this factor, each tick. */
const DECREASE = 0.5
/** Each tick within the target gives this much share back: from nothing to all in 0.5 s. */
const INCREASE = 0.02
/** Never below: a trickle keeps being answered, so the delay it costs is still measured. */
const MIN_SHARE = 0.01

/**
 * The share of requests admitted while the event loop lags: cut by a factor each time the loop's
 * delay is over the target, given back a little each time it is within (AIMD, as TCP's congestion
 * window). Pure: fed delays by whoever measures them, it says which request goes through, spread
 * evenly (every 1/share-th request) rather than at random.
 */
export class AdmissionShare {
  private value = 1
  private credit = 0
  private lateBefore = false

  constructor (private readonly targetMs: number) {}

  get share (): number { return this.value }

  /**
   * One tick: how late the loop's timer fired. Two late ticks in a row cut the share: one alone is
   * a pause (a garbage collection), not a queue.
   */
  observe (delayMs: number): void {
    const late = delayMs > this.targetMs
    if (late && this.lateBefore) this.value = Math.max(MIN_SHARE, this.value * DECREASE)
    else if (!late) this.value = Math.min(1, this.value + INCREASE)
    this.lateBefore = late
  }

  admit (): boolean {
    if (this.value >= 1) return true
    this.credit += this.value
    if (this.credit < 1) return false
    this.credit -= 1
    return true
  }
}

/**
 * Whether a request may be answered or is shed, decided before anything is built for it (see
 * load-shedding.ts): past the in-flight limit, past the heap limit, or outside the share the
 * loop delay allows. Its timers run between start() and stop() (unref'd: they never keep the
 * process alive); before start() only the in-flight limit applies, as a starting process's own
 * compiling and connecting is not a delay to shed for.
 */
export class ShedGate {
  private inFlight = 0
  private heapOver = false
  private readonly admission: AdmissionShare | null
  private timers: NodeJS.Timeout[] = []
  private started = false
  private turn = 0
  private turnEnds = false
  private readonly maxPerTurn: number
  private readonly newTurn = (): void => {
    this.turn = 0
    this.turnEnds = false
  }

  constructor (private readonly limits: SheddingLimits) {
    this.admission = limits.maxEventLoopDelayMs > 0 ? new AdmissionShare(limits.maxEventLoopDelayMs) : null
    this.maxPerTurn = limits.maxPerTurn > 0 ? limits.maxPerTurn : Infinity
  }

  /** null: admitted, and `leave()` is owed when its answer is done; else why it is shed. */
  enter (): ShedReason | null {
    if (this.heapOver) return 'heap'
    if (this.limits.maxInFlight > 0 && this.inFlight >= this.limits.maxInFlight) return 'in_flight'
    if (this.started) {
      // A turn that reads more than maxPerTurn is behind: the rest waited in socket buffers, where no
      // timer sees them yet, and admitting them all would make the next turn longer still.
      if (!this.turnEnds) {
        this.turnEnds = true
        setImmediate(this.newTurn)
      }
      if (this.turn >= this.maxPerTurn) return 'event_loop_delay'
      if (this.admission !== null && !this.admission.admit()) return 'event_loop_delay'
      this.turn++
    }
    this.inFlight++
    return null
  }

  readonly leave = (): void => { this.inFlight-- }

  start (): void {
    if (this.started) return
    this.started = true
    const admission = this.admission
    if (admission !== null) {
      let last = performance.now()
      this.timers.push(setInterval(() => {
        const now = performance.now()
        admission.observe(now - last - TICK_MS)
        last = now
      }, TICK_MS))
    }
    const maxHeap = this.limits.maxHeapUsedBytes
    if (maxHeap > 0) this.timers.push(setInterval(() => { this.heapOver = getHeapStatistics().used_heap_size > maxHeap }, HEAP_EVERY_MS))
    for (const t of this.timers) t.unref()
  }

  stop (): void {
    for (const t of this.timers) clearInterval(t)
    this.timers = []
    this.started = false
    this.heapOver = false
  }
}
