export { PopguardClient, type DecideInput, type EventSubject, type PopguardClientOptions } from './client.js'
export type { FlushResult } from './event-queue.js'
export type * from './types.js'
