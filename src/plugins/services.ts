import fp from 'fastify-plugin'
import { DecisionService } from '../services/decide/decision-service.js'
import { EventService } from '../services/events/event-service.js'
import { UserService } from '../services/users/user-service.js'

declare module 'fastify' {
  interface FastifyInstance {
    decisions: DecisionService
    events: EventService
    users: UserService
  }
}

/** Decisions: the policy in force, the user store, the clock. */
export const decisionsPlugin = fp(async (app) => {
  app.decorate('decisions', new DecisionService({
    store: app.store,
    policy: () => app.policy.current,
    logger: app.log,
    pseudonym: app.pseudonym,
    userTag: app.userTag,
    clock: app.clock
  }))
}, { name: 'popguard-decisions', dependencies: ['popguard-context', 'popguard-stores', 'popguard-governance'] })

/** Client events about decided pop-ups. */
export const eventsPlugin = fp(async (app) => {
  app.decorate('events', new EventService({ store: app.store, policy: () => app.policy.current, logger: app.log, userTag: app.userTag, pseudonym: app.pseudonym, clock: app.clock }))
}, { name: 'popguard-events', dependencies: ['popguard-context', 'popguard-stores', 'popguard-governance'] })

/** Preferences, their history, the preference centre and erasure of a user. */
export const usersPlugin = fp(async (app) => {
  app.decorate('users', new UserService({
    store: app.store, logger: app.log, pseudonym: app.pseudonym, userTag: app.userTag, clock: app.clock, policy: () => app.policy.current
  }))
}, { name: 'popguard-users', dependencies: ['popguard-context', 'popguard-stores', 'popguard-governance'] })
