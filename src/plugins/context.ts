import fp from 'fastify-plugin'
import type { AppConfig } from '../config/config.js'
import { pseudonymizer } from '../log/pseudonym.js'
import { userTagger } from '../rules/decide/codes.js'

declare module 'fastify' {
  interface FastifyInstance {
    config: AppConfig
    /** The one clock of this app: every store and service below is built with it. */
    clock: () => number
    /** A user id as store keys name it (keyed by POPGUARD_USER_KEY). */
    userTag: (userId: string) => string
    /** A user id as logs name it (keyed by POPGUARD_LOG_KEY). */
    pseudonym: (userId: string) => string
  }
}

export interface ContextOptions {
  config: AppConfig
  clock: () => number
}

/** What every plugin below reads: the configuration, the clock, and the two keyed names of a user. */
export const contextPlugin = fp<ContextOptions>(async (app, opts) => {
  app.decorate('config', opts.config)
  app.decorate('clock', opts.clock)
  app.decorate('userTag', userTagger(opts.config.userKey))
  app.decorate('pseudonym', pseudonymizer(opts.config.logKey))
}, { name: 'popguard-context' })
