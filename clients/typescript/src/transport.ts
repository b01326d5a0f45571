import type { ErrorBody } from './types.js'

export interface TransportOptions {
  baseUrl: string
  apiKey: string
  /** The end-user token, when the API key requires one (device calls). */
  userToken?: string | (() => string | Promise<string>)
  fetch: typeof fetch
}

/** What one HTTP attempt gave: a status and parsed body, or why there was none. */
export type Attempt =
  | { kind: 'answer', status: number, body: unknown, retryAfter?: string }
  | { kind: 'timeout' | 'network_error' | 'token_error' }

type FetchInit = NonNullable<Parameters<typeof fetch>[1]>

export async function userTokenOf (source: TransportOptions['userToken']): Promise<string | undefined> {
  return typeof source === 'function' ? await source() : source
}

/** One request with a deadline; never throws. */
export async function send (opts: TransportOptions, method: string, path: string, body: unknown, timeoutMs: number, extra: { requestId?: string, keepalive?: boolean } = {}): Promise<Attempt> {
  let token: string | undefined
  try {
    token = await userTokenOf(opts.userToken)
  } catch {
    return { kind: 'token_error' }
  }
  const headers: Record<string, string> = { authorization: `Bearer ${opts.apiKey}` }
  if (body !== undefined) headers['content-type'] = 'application/json'
  if (token !== undefined) headers['x-user-token'] = token
  if (extra.requestId !== undefined) headers['x-request-id'] = extra.requestId
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(), timeoutMs)
  const init: FetchInit = { method, headers, signal: controller.signal, ...(body === undefined ? {} : { body: JSON.stringify(body) }), ...(extra.keepalive === true ? { keepalive: true } : {}) }
  try {
    const res = await opts.fetch(opts.baseUrl.replace(/\/+$/, '') + path, init)
    const text = await res.text()
    let parsed: unknown = null
    try { parsed = text === '' ? null : JSON.parse(text) } catch { parsed = null }
    const retryAfter = res.headers.get('retry-after')
    return { kind: 'answer', status: res.status, body: parsed, ...(retryAfter === null ? {} : { retryAfter }) }
  } catch {
    return { kind: controller.signal.aborted ? 'timeout' : 'network_error' }
  } finally {
    clearTimeout(timer)
  }
}

export const errorBodyOf = (body: unknown): ErrorBody | undefined =>
  typeof body === 'object' && body !== null && typeof (body as ErrorBody).error === 'string' ? body as ErrorBody : undefined

/** Worth another attempt: popguard did not answer, or answered that it could not. */
export const retryable = (a: Attempt): boolean => a.kind === 'timeout' || a.kind === 'network_error' || (a.kind === 'answer' && a.status >= 500)

/**
 * Worth another attempt at once: retryable, unless popguard shed the request (503 with
 * `Retry-After`: it is overloaded, and a retry 50 ms later would only add to its load).
 */
export const retryNow = (a: Attempt): boolean => retryable(a) && !(a.kind === 'answer' && a.status === 503 && a.retryAfter !== undefined)
