import type { TestApp } from '../helpers/app.js'

export const ADMIN = { authorization: 'Bearer dev-admin-key' }
export const CLIENT = { authorization: 'Bearer dev-client-key' }

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

export async function admin (t: TestApp, method: 'GET' | 'PUT' | 'POST' | 'DELETE', url: string, payload?: unknown,
  headers: Record<string, string> = {}): Promise<{ status: number, body: any, headers: Record<string, unknown> }> {
  const res = await t.app.inject({ method, url, headers: { ...ADMIN, ...headers }, ...(payload === undefined ? {} : { payload: payload as object }) })
  return { status: res.statusCode, body: res.body === '' ? null : res.json(), headers: res.headers }
}

let users = 0
/** Decides for a fresh user each time, so earlier impressions never count. */
export async function decideFresh (t: TestApp, ids: string[], extra: Record<string, unknown> = {}): Promise<any> {
  const { status, body } = await t.decide({ userId: `fresh-${++users}`, placement: 'home', candidates: ids.map((campaignId) => ({ campaignId })), ...extra })
  if (status !== 200) throw new Error(`decide answered ${status}: ${JSON.stringify(body)}`)
  return body
}

/** Polls `probe` until it holds; returns how long that took (ms), or throws after `giveUpMs`. */
export async function timeUntil (probe: () => Promise<boolean>, giveUpMs = 5000): Promise<number> {
  const started = performance.now()
  while (performance.now() - started < giveUpMs) {
    if (await probe()) return performance.now() - started
    await sleep(5)
  }
  throw new Error(`still not true after ${giveUpMs} ms`)
}
