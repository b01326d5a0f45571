import type { FastifyBaseLogger } from 'fastify'
import { UnavailableError } from '../../errors.js'
import { StoreUnavailableError, type Store } from '../../store/user-store.js'
import { PREFERENCES_TTL_MS, preferencesFromHash, preferencesToHash, type PreferencesDoc, type PreferencesInput } from '../../rules/users/preferences.js'

export interface UserServiceOptions {
  store: Store
  logger: FastifyBaseLogger
  pseudonym: (userId: string) => string
  /** The user's key tag in the store (see userTagger). */
  userTag: (userId: string) => string
  clock: () => number
  /** Tells every instance's over-limit cache that this user's state changed (docs/architecture.md). */
  userChanged?: (userTag: string) => void
}

/** A user's own controls: preferences and erasure. A store fault is a 503, never a guess. */
export class UserService {
  constructor (private readonly opts: UserServiceOptions) {}

  async preferences (userId: string): Promise<PreferencesDoc> {
    const hash = await this.store(() => this.opts.store.readPreferences(this.opts.userTag(userId)))
    return preferencesFromHash(hash, this.opts.clock())
  }

  async setPreferences (userId: string, input: PreferencesInput): Promise<PreferencesDoc> {
    const now = this.opts.clock()
    const hash = preferencesToHash(input, now)
    const tag = this.opts.userTag(userId)
    await this.store(() => this.opts.store.writePreferences(tag, hash, PREFERENCES_TTL_MS))
    this.opts.userChanged?.(tag)
    const doc = preferencesFromHash(hash, now)
    this.opts.logger.info({
      event: 'preferences',
      user: this.opts.pseudonym(userId),
      marketing: doc.marketing,
      categoriesOff: Object.keys(doc.categories).filter((c) => doc.categories[c] === 'off'),
      snoozeUntil: doc.snoozeUntil
    }, 'preferences changed')
    return doc
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
