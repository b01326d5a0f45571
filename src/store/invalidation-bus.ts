/**
 * Tells every instance that what it cached about users is out of date (the over-limit cache,
 * docs/architecture.md): Redis pub/sub in production, the one process for the memory store.
 */
export interface InvalidationBus {
  /** Every instance, this one included, drops the user with this tag. */
  publishUser (userTag: string): Promise<void>
  /**
   * `user(tag)` for each message, from any instance; `listening()` each time the subscription is
   * (re)established, `lost()` when it is lost (messages from then on are missed until `listening()`).
   */
  subscribe (handlers: InvalidationHandlers): Promise<void>
  close (): Promise<void>
}

export interface InvalidationHandlers {
  user: (userTag: string) => void
  listening: () => void
  lost: () => void
}
