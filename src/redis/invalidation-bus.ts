import { createRedisClient, type RedisClient, type RedisTarget } from './connection.js'
import { KEY_PREFIX } from './keys.js'
import type { InvalidationBus, InvalidationHandlers } from '../store/invalidation-bus.js'

export interface RedisInvalidationOptions {
  keyPrefix?: string
  onConnectionError?: (err: Error) => void
}

/**
 * Redis pub/sub on `<prefix>overlimit`, one message per user: the tag. A publisher connection
 * and a subscriber connection of its own (a subscribed connection runs no other command). Every
 * time the subscriber is lost, messages may be missed: `lost()`, then `listening()` once subscribed again.
 */
export class RedisInvalidationBus implements InvalidationBus {
  private readonly channel: string
  private readonly publisher: RedisClient
  private subscriber: RedisClient | null = null

  constructor (private readonly target: RedisTarget, private readonly options: RedisInvalidationOptions = {}) {
    this.channel = `${options.keyPrefix ?? KEY_PREFIX}overlimit`
    this.publisher = createRedisClient(target)
    this.reportErrors(this.publisher)
  }

  async publishUser (userTag: string): Promise<void> {
    await this.publisher.publish(this.channel, userTag)
  }

  async subscribe (handlers: InvalidationHandlers): Promise<void> {
    const subscriber = createRedisClient(this.target)
    this.subscriber = subscriber
    this.reportErrors(subscriber)
    subscriber.on('message', (channel: string, tag: string) => {
      if (channel === this.channel) handlers.user(tag)
    })
    const join = (): void => {
      subscriber.subscribe(this.channel).then(() => { handlers.listening() }, () => {
        // Tried again while the connection lasts; a new connection joins on its own 'ready'.
        setTimeout(() => { if (subscriber.status === 'ready' && this.subscriber === subscriber) join() }, 1000).unref()
      })
    }
    subscriber.on('ready', join)
    subscriber.on('close', () => { handlers.lost() })
    if (subscriber.status === 'ready') join()
  }

  async close (): Promise<void> {
    this.subscriber?.disconnect()
    this.publisher.disconnect()
  }

  private reportErrors (client: RedisClient): void {
    let last = 0
    client.on('error', (err: Error) => {
      if (Date.now() - last < 1000) return
      last = Date.now()
      this.options.onConnectionError?.(err)
    })
  }
}
