import pino from 'pino'
import { afterAll, describe, expect, it } from 'vitest'
import type { CountBatch } from '../../src/rules/reports/batch.js'
import { ReportCounter } from '../../src/services/reports/counter.js'
import { ReportFlusher } from '../../src/services/reports/flusher.js'
import { FlushNotSentError, type ReportStore, type StoredDay } from '../../src/store/report-store.js'
import { rawRedis, uniquePrefix } from '../helpers/app.js'
import { reportStore } from '../helpers/reports.js'

const DAY = '2026-06-01'
const clock = () => Date.parse(`${DAY}T12:00:00Z`)

/** The real store behind a link that fails as the test says: the reply lost after applying, or nothing sent. */
class FlakyLink implements ReportStore {
  next: 'ok' | 'lost-reply' | 'not-sent' = 'ok'
  constructor (readonly inner: ReportStore) {}
  get userCountError (): number { return this.inner.userCountError }
  async apply (batch: CountBatch, flushId: string): Promise<void> {
    const mode = this.next
    this.next = 'ok'
    if (mode === 'not-sent') throw new FlushNotSentError('not connected')
    await this.inner.apply(batch, flushId)
    if (mode === 'lost-reply') throw new Error('Command timed out')
  }

  read (days: string[]): Promise<StoredDay[]> { return this.inner.read(days) }
  close (): Promise<void> { return this.inner.close() }
}

function counting (store: ReportStore) {
  const counter = new ReportCounter({ clock, timeZone: () => 'UTC', classOf: () => 'marketing', maxPendingUsers: 1000 })
  const flusher = new ReportFlusher(counter, store, { everyMs: 3_600_000, logger: pino({ level: 'silent' }) })
  const shown = (n: number) => { for (let i = 0; i < n; i++) counter.recordEvent({ type: 'shown', campaignId: 'c1', cohort: 'treated' }) }
  const total = async () => (await store.read([DAY]))[0]?.events['c1|treated|marketing|shown'] ?? 0
  return { counter, flusher, shown, total }
}

describe('flushing report counts to Redis', () => {
  const stores: ReportStore[] = []
  afterAll(async () => { await Promise.all(stores.map(async (s) => await s.close())) })
  const redisStore = () => { const s = reportStore('redis', uniquePrefix()); stores.push(s); return s }

  it('applies a flush id once, however often it is sent', async () => {
    const store = redisStore()
    const { counter, total } = counting(store)
    counter.recordEvent({ type: 'shown', campaignId: 'c1', cohort: 'treated' })
    const batch = counter.drain() as CountBatch
    await store.apply(batch, 'flush-a')
    await store.apply(batch, 'flush-a')
    expect(await total()).toBe(1)
    await store.apply(batch, 'flush-b')
    expect(await total()).toBe(2)
  })

  it('resends a flush whose reply was lost under the same id: counted once', async () => {
    const link = new FlakyLink(redisStore())
    const { flusher, shown, total } = counting(link)
    shown(3)
    link.next = 'lost-reply'
    expect(await flusher.flush()).toBe(false)
    shown(2)
    expect(await flusher.flush()).toBe(true)
    expect(await total()).toBe(5)
  })

  it('puts back a flush that was never sent: nothing lost, nothing twice', async () => {
    const link = new FlakyLink(redisStore())
    const { flusher, shown, total } = counting(link)
    shown(4)
    link.next = 'not-sent'
    expect(await flusher.flush()).toBe(false)
    expect(await total()).toBe(0)
    shown(1)
    expect(await flusher.flush()).toBe(true)
    expect(await total()).toBe(5)
  })

  it('gives every aggregate key the retention TTL and the flush marker a shorter one', async () => {
    const prefix = uniquePrefix()
    const store = reportStore('redis', prefix, 30)
    stores.push(store)
    const { counter, flusher } = counting(store)
    counter.observeDecision({
      answer: { decisionId: 'd', show: null, candidates: [{ campaignId: 'c1', allowed: false, reason: 'cooldown' }], policyVersion: 1, mode: 'enforce', cohort: 'treated' },
      placement: 'home',
      user: 'pseudonym-1',
      classes: ['marketing'],
      degraded: false,
      replayed: false,
      seconds: 0
    })
    counter.recordEvent({ type: 'shown', campaignId: 'c1', cohort: 'treated' })
    await flusher.flush()
    const redis = rawRedis()
    try {
      const keys = await redis.keys(prefix + '*')
      expect(keys.filter((k) => !k.includes(':f:')).sort()).toEqual(
        ['c', 'd', 'e', 'u'].map((kind) => `${prefix}{agg}:${kind}:${DAY}${kind === 'u' ? ':treated' : ''}`).sort())
      for (const key of keys) {
        const ttl = await redis.pttl(key)
        const want = key.includes(':f:') ? 7 * 86_400_000 : 30 * 86_400_000
        expect(ttl, key).toBeGreaterThan(want - 60_000)
        expect(ttl, key).toBeLessThanOrEqual(want)
      }
    } finally {
      redis.disconnect()
    }
  })
})
