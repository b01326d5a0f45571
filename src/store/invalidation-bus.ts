/**
 * Tells every instance that what it cached about users is out of date (the over-limit cache,
 * docs/architecture.md): Redis pub/sub in production, the one process for the memory store.
 */
export interface InvalidationBus {
  /** Every instance, this one included, drops the user with this tag. */
  publishUser (userTag: string): Promise<void>
  /**
   * `user(tag)` for each message, from any instance; `all()` whenever messages may have been
   * missed (the subscription was (re)established after a disconnection).
   */
  subscribe (handlers: { user: (userTag: string) => void, all: () => void }): Promise<void>
  close (): Promise<void>
}
