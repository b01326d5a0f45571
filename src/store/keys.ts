/**
 * Key layout. Every key of one user carries the user's hash tag, so one Lua script
 * may touch them all, on a standalone Redis or in one Redis Cluster slot.
 */
export const KEY_PREFIX = 'pg:v1:'

export function userKeys (prefix: string, tag: string, requestId: string): [string, string, string, string] {
  const base = `${prefix}{u:${tag}}:`
  return [base + 'l', base + 'p', base + 'f', base + 'q:' + requestId]
}
