import type { FastifyBaseLogger } from 'fastify'
import { UnavailableError } from '../../errors.js'
import { StoreUnavailableError, type Store } from '../../store/user-store.js'
import type { CompiledPolicy } from '../../rules/policy/compile.js'
import { PREFERENCES_TTL_MS, preferencesFromHash, preferencesToHash, type PreferencesDoc, type PreferencesInput } from '../../rules/users/preferences.js'
import {
  applyChange, centerView, diffPreferences, HISTORY_KEEP, HISTORY_TTL_MS, historyRecord, parseHistoryRecord,
  type CenterView, type ChangeSource, type HistoryRecord, type PreferenceChange
} from '../../rules/users/preference-center.js'

export interface UserServiceOptions {
  store: Store
  logger: FastifyBaseLogger
  pseudonym: (userId: string) => string
  /** The user's key tag in the store (see userTagger). */
  userTag: (userId: string) => string
  clock: () => number
  /** The policy in force: the campaign registry the preference centre lists categories from. */
  policy: () => CompiledPolicy
  /** Tells every instance's over-limit cache that this user's state changed (docs/architecture.md). */
  userChanged?: (userTag: string) => void
}

/** One change of one user's preferences, after it was stored (reports count them). */
export interface PreferenceChangeRecord {
  change: PreferenceChange
  source: ChangeSource
  at: number
}

/** A user's own controls: preferences, their history, the preference centre, and erasure. A store fault is a 503, never a guess. */
export class UserService {
  private readonly listeners: ((r: PreferenceChangeRecord) => void)[] = []

  constructor (private readonly opts: UserServiceOptions) {}

  /** Told of every stored change (one record per change), after the write. */
  onChange (listener: (r: PreferenceChangeRecord) => void): void {
    this.listeners.push(listener)
  }

  async preferences (userId: string): Promise<PreferencesDoc> {
    const hash = await this.store(() => this.opts.store.readPreferences(this.opts.userTag(userId)))
    return preferencesFromHash(hash, this.opts.clock())
  }

  /**
   * Replaces the preferences whole, recording what changed (read before the write: a change racing
   * this one may be recorded against a stale "before", never lost from the preferences themselves).
   */
  async setPreferences (userId: string, input: PreferencesInput, source: ChangeSource = { via: 'api', key: 'unknown' }): Promise<PreferencesDoc> {
    const now = this.opts.clock()
    const hash = preferencesToHash(input, now)
    const before = await this.preferences(userId)
    const doc = preferencesFromHash(hash, now)
    const changes = diffPreferences(before, doc)
    const entries = changes.map((c) => JSON.stringify(historyRecord(c, source, now)))
    const tag = this.opts.userTag(userId)
    await this.store(() => this.opts.store.writePreferences(tag, hash, PREFERENCES_TTL_MS,
      { entries, keep: HISTORY_KEEP, ttlMs: HISTORY_TTL_MS }))
    this.opts.userChanged?.(tag)
    this.opts.logger.info({
      event: 'preferences',
      user: this.opts.pseudonym(userId),
      via: source.via,
      marketing: doc.marketing,
      categoriesOff: Object.keys(doc.categories).filter((c) => doc.categories[c] === 'off'),
      snoozeUntil: doc.snoozeUntil,
      changes: changes.length
    }, 'preferences changed')
    for (const change of changes) for (const l of this.listeners) l({ change, source, at: now })
    return doc
  }

  /** What the preference centre shows the user, in the page's language. */
  async center (userId: string, lang: string): Promise<CenterView> {
    const tag = this.opts.userTag(userId)
    const [hash, ledger] = await this.store(() => Promise.all([this.opts.store.readPreferences(tag), this.opts.store.readLedger(tag)]))
    const now = this.opts.clock()
    return centerView(this.opts.policy(), preferencesFromHash(hash, now), ledger, now, lang)
  }

  /** One change from the preference centre, applied at once (the next decision sees it). */
  async changeFromCenter (userId: string, change: PreferenceChange): Promise<void> {
    const current = await this.preferences(userId)
    await this.setPreferences(userId, applyChange(current, change), { via: 'preference_center' })
  }

  /** The user's preference changes, newest first (at most HISTORY_KEEP). */
  async history (userId: string): Promise<HistoryRecord[]> {
    const raw = await this.store(() => this.opts.store.readHistory(this.opts.userTag(userId)))
    return raw.map(parseHistoryRecord).filter((r): r is HistoryRecord => r !== null)
  }

  async erase (userId: string): Promise<void> {
    const tag = this.opts.userTag(userId)
    const keys = await this.store(() => this.opts.store.erase(tag))
    this.opts.userChanged?.(tag)
    this.opts.logger.info({ event: 'erasure', user: this.opts.pseudonym(userId), keys }, 'user erased')
  }

  private async store<T> (fn: () => Promise<T>): Promise<T> {
    try {
      return await fn()
    } catch (err) {
      if (err instanceof StoreUnavailableError) throw new UnavailableError('the store is unavailable; try again')
      throw err
    }
  }
}
