/**
 * Replies that say the store itself is unwell: they feed the circuit breaker, as timeouts and
 * connection errors do. Any other error reply (a script's runtime error, a wrong type) answers
 * one call only: it is counted and logged, never a reason to stop calling the store.
 * Matched at the start, or after the `-` with which an older Redis quotes it inside a script error.
 */
const STORE_FAULT_REPLY = /(?:^|-)(?:BUSY|LOADING|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|READONLY|OOM|MISCONF|NOREPLICAS|NOAUTH|WRONGPASS|NOPERM)\b/

export function isStoreFault (err: unknown): boolean {
  if (!(err instanceof Error) || err.name !== 'ReplyError') return true
  return STORE_FAULT_REPLY.test(err.message)
}

/** How a store call ended: answered, store fault (timeout, connection, BUSY...), error reply, or script too late to act. */
export type StoreCallResult = 'ok' | 'error' | 'script_error' | 'late'
