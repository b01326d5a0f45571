import type { InvalidationBus, InvalidationHandlers } from '../store/invalidation-bus.js'

/** One process: a message reaches the subscribers of this object only. */
export class MemoryInvalidationBus implements InvalidationBus {
  private readonly listeners: ((tag: string) => void)[] = []

  async publishUser (userTag: string): Promise<void> {
    for (const listener of this.listeners) listener(userTag)
  }

  async subscribe (handlers: InvalidationHandlers): Promise<void> {
    this.listeners.push(handlers.user)
    handlers.listening()
  }

  async close (): Promise<void> {
    this.listeners.length = 0
  }
}
