// Steady decide load from two instances through a fault (a master killed), for the failover tests:
// what every answer was, and when decisions reached Redis again.
import type { FastifyInstance } from 'fastify'
import { AUTH } from './app.js'

export interface FaultRun {
  /** HTTP status -> count, over the whole run. */
  statuses: Record<number, number>
  /** Answers with a `degraded` candidate (the store did not answer), after the fault. */
  degraded: number
  /** From the fault to the first of `settle` answers in a row that reached Redis; null: never within the run. */
  recoveredAfterMs: number | null
}

export interface FaultRunOptions {
  /** The users the load draws from. */
  users: string[]
  /** Load before the fault, ms. */
  beforeMs?: number
  /** Give up waiting for recovery after this long, ms. */
  timeoutMs?: number
  /** Answers in a row that reached Redis for the run to count as recovered. */
  settle?: number
}

export async function decideThroughFault (apps: FastifyInstance[], fault: () => Promise<unknown>, o: FaultRunOptions): Promise<FaultRun> {
  const statuses: Record<number, number> = {}
  let degraded = 0
  let faultAt = 0
  let streakFrom = 0
  let streak = 0
  // Fields, not locals: the workers change them while the loops below wait.
  const run = { stop: false, recoveredAfterMs: null as number | null }
  let n = 0
  const worker = async (): Promise<void> => {
    while (!run.stop) {
      const i = n++
      const res = await apps[i % apps.length]!.inject({
        method: 'POST',
        url: '/v1/decide',
        headers: AUTH,
        payload: { userId: o.users[i % o.users.length], placement: 'home', candidates: [{ campaignId: 'a' }, { campaignId: 'b' }, { campaignId: 'c' }] }
      })
      statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1
      const isDegraded = res.statusCode !== 200 || (res.json().candidates as { reason: string }[]).some((c) => c.reason === 'degraded')
      if (faultAt > 0 && run.recoveredAfterMs === null) {
        if (isDegraded) {
          degraded++
          streak = 0
        } else if (streak++ === 0) {
          streakFrom = Date.now()
        }
        if (streak >= (o.settle ?? 20)) run.recoveredAfterMs = streakFrom - faultAt
      }
      await new Promise((resolve) => setTimeout(resolve, 2))
    }
  }
  const workers = [worker(), worker(), worker(), worker()]
  await new Promise((resolve) => setTimeout(resolve, o.beforeMs ?? 500))
  await fault()
  faultAt = Date.now()
  const deadline = faultAt + (o.timeoutMs ?? 20_000)
  while (run.recoveredAfterMs === null && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
  run.stop = true
  await Promise.all(workers)
  return { statuses, degraded, recoveredAfterMs: run.recoveredAfterMs }
}
