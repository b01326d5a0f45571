import type { TestApp } from './app.js'
import { AUTH } from './app.js'

export const PREFS_AUTH = { authorization: 'Bearer dev-preferences-key' }

export interface Reply { status: number, body: any }

const reply = (res: { statusCode: number, body: string }): Reply =>
  ({ status: res.statusCode, body: res.body === '' ? null : JSON.parse(res.body) })

/** HTTP calls of the user-control API on a test app. */
export function userControl (t: TestApp) {
  return {
    async getPrefs (userId: string): Promise<Reply> {
      return reply(await t.app.inject({ method: 'GET', url: `/v1/users/${encodeURIComponent(userId)}/preferences`, headers: PREFS_AUTH }))
    },
    async putPrefs (userId: string, body: unknown): Promise<Reply> {
      return reply(await t.app.inject({ method: 'PUT', url: `/v1/users/${encodeURIComponent(userId)}/preferences`, headers: PREFS_AUTH, payload: body as object }))
    },
    async erase (userId: string): Promise<Reply> {
      return reply(await t.app.inject({ method: 'DELETE', url: `/v1/users/${encodeURIComponent(userId)}`, headers: PREFS_AUTH }))
    },
    async events (events: unknown[]): Promise<Reply> {
      return reply(await t.app.inject({ method: 'POST', url: '/v1/events', headers: AUTH, payload: { events } }))
    },
    async eventsRaw (payload: string): Promise<Reply> {
      return reply(await t.app.inject({ method: 'POST', url: '/v1/events', headers: { ...AUTH, 'content-type': 'application/json' }, payload }))
    }
  }
}
