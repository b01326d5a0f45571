/** How long a store call may take (POPGUARD_STORE_TIMEOUT_MS); docs/benchmark.md has the measurements behind it. */
export const DEFAULT_STORE_TIMEOUT_MS = 100
/**
 * decide.lua must start within this share of the store timeout, in Redis's clock, or record nothing.
 * The rest is the reply's way back and the error of the clock estimate: an answer the script
 * recorded reaches the client before it stops waiting.
 */
export const SCRIPT_DEADLINE_SHARE = 0.8
/** The ioredis client's own command timeout: only a backstop that clears its queue if Redis hangs. */
export const clientTimeoutFor = (storeTimeoutMs: number): number => Math.max(1000, 4 * storeTimeoutMs)

/** A store call that got no answer in time: a store fault (it feeds the circuit breaker). */
export class StoreDeadlineError extends Error {
  constructor (ms: number) {
    super(`no answer within ${ms} ms`)
    this.name = 'StoreDeadlineError'
  }
}

/**
 * The promise's outcome, or StoreDeadlineError once `ms` have passed without one. When the timer
 * fires, the rejection waits for setImmediate: the event loop's poll phase runs between the two,
 * so a reply that reached the socket in time is read and wins, even when a busy event loop ran the
 * timer late (Node runs due timers before it reads sockets). Without this, load alone turned
 * answers Redis had given, and recorded, into timeouts.
 */
export async function withDeadline<T> (promise: Promise<T>, ms: number): Promise<T> {
  return await new Promise<T>((resolve, reject) => {
    let settled = false
    const timer = setTimeout(() => {
      setImmediate(() => {
        if (settled) return
        settled = true
        reject(new StoreDeadlineError(ms))
      })
    }, ms)
    promise.then((value) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      resolve(value)
    }, (err: unknown) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      reject(err)
    })
  })
}
