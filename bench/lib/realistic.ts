/**
 * The realistic scenario's traffic (issue 12): what a pop-up service gets from apps that ask at
 * every app open and page view.
 * - Users arrive, ask for a day's worth of requests in sessions, and leave: a user's requests for
 *   the run follow a power law over 1..60 (P(k) ~ k^-ALPHA: most users ask once or twice, a heavy
 *   tail tens of times), so no user asks more than a day's worth and the run never revisits a
 *   finished day's state (the bench policy's cooldown and caps outlast the run).
 * - A session is 1-8 consecutive requests of one user (mean ~3); ACTIVE sessions interleave.
 * - Each request: 1-3 marketing candidates of the bench policy (the paused one included), and in a
 *   few requests a service (8%) or critical (2%) candidate; a placement and platform.
 * Seeded: two sources with the same seed give the same requests in the same order (the ceiling
 * gets the very same requests as popguard).
 */
import { randomUUID } from 'node:crypto'

const ALPHA = 1.55
const MAX_REQUESTS = 60
const ACTIVE = 256
const MARKETING = ['spring-sale', 'cashback-weekend', 'quick-loan', 'new-card-design']
const SERVICE = 'app-update'
const CRITICAL = 'fraud-warning'
const PLACEMENTS = ['home', 'wallet', 'after-payment']
const PLATFORMS = ['ios', 'android', 'web']

/** mulberry32: small, fast, seeded. */
function rng (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6D2B79F5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Cumulative weights of k^-ALPHA for k = 1..MAX_REQUESTS. */
const CUMULATIVE = (() => {
  const w = Array.from({ length: MAX_REQUESTS }, (_, i) => (i + 1) ** -ALPHA)
  const total = w.reduce((a, b) => a + b, 0)
  let sum = 0
  return w.map((x) => (sum += x / total))
})()

interface User { id: string, left: number }
interface Session { user: User, left: number }

export class RealisticTraffic {
  private readonly random: () => number
  private readonly sessions: Session[] = []
  private readonly waiting: User[] = []
  private users = 0

  constructor (seed: number, private readonly prefix: string) {
    this.random = rng(seed)
    for (let i = 0; i < ACTIVE; i++) this.sessions.push(this.session(this.newUser()))
  }

  /** The next request's body. */
  next (withRequestId: boolean): string {
    const i = Math.floor(this.random() * ACTIVE)
    const s = this.sessions[i] as Session
    const body = JSON.stringify({
      userId: s.user.id,
      placement: this.pick(PLACEMENTS),
      candidates: this.candidates(),
      // Not from the seeded generator: a fresh id per request, the ceiling ignores it.
      ...(withRequestId ? { requestId: randomUUID() } : {}),
      context: { platform: this.pick(PLATFORMS) }
    })
    if (--s.left === 0) {
      if (s.user.left > 0) this.waiting.push(s.user)
      this.sessions[i] = this.session(this.nextUser())
    }
    return body
  }

  /** A user coming back for another session later in the run (as likely as a new one per waiting user), or a new user. */
  private nextUser (): User {
    if (this.waiting.length > 0 && this.random() < this.waiting.length / (this.waiting.length + ACTIVE)) {
      const j = Math.floor(this.random() * this.waiting.length)
      const u = this.waiting[j] as User
      this.waiting[j] = this.waiting[this.waiting.length - 1] as User
      this.waiting.pop()
      return u
    }
    return this.newUser()
  }

  private newUser (): User {
    const u = this.random()
    const k = CUMULATIVE.findIndex((c) => u <= c) + 1
    return { id: `${this.prefix}${this.users++}`, left: k > 0 ? k : MAX_REQUESTS }
  }

  /** A session of 1-8 requests (geometric, mean ~3), at most what the user has left. */
  private session (user: User): Session {
    let n = 1
    while (n < 8 && this.random() < 2 / 3) n++
    n = Math.min(n, user.left)
    user.left -= n
    return { user, left: n }
  }

  private candidates (): { campaignId: string }[] {
    const r = this.random()
    const n = r < 0.35 ? 1 : r < 0.75 ? 2 : 3
    const chosen = new Set<string>()
    while (chosen.size < n) chosen.add(this.pick(MARKETING))
    const ids = [...chosen]
    const extra = this.random()
    if (extra < 0.08) ids[this.random() < 0.5 ? 0 : ids.length - 1] = SERVICE
    else if (extra < 0.10) ids[ids.length - 1] = CRITICAL
    return [...new Set(ids)].map((campaignId) => ({ campaignId }))
  }

  private pick<T> (items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)] as T
  }
}
