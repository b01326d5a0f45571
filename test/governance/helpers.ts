import type { TestApp } from '../helpers/app.js'

export const ADMIN = { authorization: 'Bearer dev-admin-key' }
export const CLIENT = { authorization: 'Bearer dev-client-key' }

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

type Method = 'GET' | 'PUT' | 'POST' | 'DELETE'

/**
 * The precondition a careful client sends with a write to `url`: the ETag it reads just before
 * (of the policy, or of the campaign the URL names); when there is none, `If-None-Match: *` to
 * create it, `If-Match: *` (whatever exists) for any other write.
 */
export async function readPrecondition (t: TestApp, method: Method, url: string): Promise<Record<string, string>> {
  const campaign = /^\/v1\/campaigns\/([^/]+)/.exec(url)
  const read = await t.app.inject({ method: 'GET', url: campaign === null ? '/v1/policy' : `/v1/campaigns/${campaign[1]!}`, headers: ADMIN })
  if (read.statusCode === 404) return method === 'PUT' ? { 'if-none-match': '*' } : { 'if-match': '*' }
  if (read.statusCode !== 200) throw new Error(`reading ${url} for its ETag answered ${read.statusCode}: ${read.body}`)
  return { 'if-match': String(read.headers.etag) }
}

/**
 * An admin request. A write without `if-match` / `if-none-match` in `headers` carries the one
 * `readPrecondition` gives; tests of the preconditions themselves pass their own or use inject.
 */
export async function admin (t: TestApp, method: Method, url: string, payload?: unknown,
  headers: Record<string, string> = {}): Promise<{ status: number, body: any, headers: Record<string, unknown> }> {
  const conditional = method === 'GET' || 'if-match' in headers || 'if-none-match' in headers
  const precondition = conditional ? {} : await readPrecondition(t, method, url)
  const res = await t.app.inject({
    method, url, headers: { ...ADMIN, ...precondition, ...headers }, ...(payload === undefined ? {} : { payload: payload as object })
  })
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
