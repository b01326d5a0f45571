import fp from 'fastify-plugin'
import { DecisionService } from '../services/decide/decision-service.js'
import { EventService } from '../services/events/event-service.js'
import { UserService } from '../services/users/user-service.js'
import { OverLimitCache } from '../services/decide/over-limit-cache.js'

declare module 'fastify' {
  interface FastifyInstance {
    decisions: DecisionService
    /** The over-limit cache of this instance (null: off, or the memory store). */
    overLimitCache: OverLimitCache | null
    /**
     * A user's state changed in a way that may free a slot or change consent: every instance
     * drops what its over-limit cache holds about them (this one at once).
     */
    userChanged: (userTag: string) => void
    events: EventService
    users: UserService
  }
}

/** Decisions: the policy in force, the user store, the clock, and the over-limit cache (docs/architecture.md). */
export const decisionsPlugin = fp(async (app) => {
  const staleness = app.config.overLimitCacheMs
  // The memory store has no round trip to save.
  const cache = staleness > 0 && app.store.kind !== 'memory'
    ? new OverLimitCache({ maxStalenessMs: staleness, onEvict: app.metrics.overLimitEvicted })
    : null
  const decisions = new DecisionService({
    store: app.store,
    policy: () => app.policy.current,
    logger: app.log,
    pseudonym: app.pseudonym,
    userTag: app.userTag,
    clock: app.clock,
    cache
  })
  app.decorate('decisions', decisions)
  app.decorate('overLimitCache', cache)
  if (cache !== null) await app.invalidation.subscribe({ user: (tag) => { cache.forget(tag) }, listening: () => { cache.resume() }, lost: () => { cache.suspend() } })
  let lastFailure = 0
  app.decorate('userChanged', (tag: string) => {
    decisions.forgetCached(tag)
    app.invalidation.publishUser(tag).catch((err: Error) => {
      if (Date.now() - lastFailure < 1000) return
      lastFailure = Date.now()
      app.log.warn({ err: { message: err.message } }, 'over-limit cache: could not publish a user change; other instances keep their facts until they expire')
    })
  })
}, { name: 'popguard-decisions', dependencies: ['popguard-context', 'popguard-metrics', 'popguard-stores', 'popguard-governance'] })

/** Client events about decided pop-ups. */
export const eventsPlugin = fp(async (app) => {
  app.decorate('events', new EventService({
    store: app.store, policy: () => app.policy.current, logger: app.log, userTag: app.userTag, pseudonym: app.pseudonym, clock: app.clock, userChanged: app.userChanged
  }))
}, { name: 'popguard-events', dependencies: ['popguard-context', 'popguard-stores', 'popguard-governance', 'popguard-decisions'] })

/** Preferences, their history, the preference centre and erasure of a user. */
export const usersPlugin = fp(async (app) => {
  app.decorate('users', new UserService({
    store: app.store,
    logger: app.log,
    pseudonym: app.pseudonym,
    userTag: app.userTag,
    clock: app.clock,
    policy: () => app.policy.current,
    userChanged: app.userChanged
  }))
}, { name: 'popguard-users', dependencies: ['popguard-context', 'popguard-stores', 'popguard-governance', 'popguard-decisions'] })
