import { expect } from 'vitest'
import { ERROR_CODES } from '../../src/errors.js'

const KNOWN_CODES = new Set(Object.values(ERROR_CODES))

/** Why `body` is not the one error shape with a known code (null when it is). */
export function errorShapeProblem (body: string): string | null {
  let parsed: unknown
  try {
    parsed = JSON.parse(body)
  } catch {
    return `not JSON: ${JSON.stringify(body.slice(0, 200))}`
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return `not an object: ${body.slice(0, 200)}`
  const { error, message, details, ...rest } = parsed as Record<string, unknown>
  if (Object.keys(rest).length > 0) return `unexpected keys ${Object.keys(rest).join(', ')}`
  if (typeof error !== 'string' || !KNOWN_CODES.has(error)) return `unknown error code ${JSON.stringify(error)}`
  if (typeof message !== 'string') return 'message is not a string'
  if (details !== undefined && !(Array.isArray(details) && details.every((d) => typeof d?.path === 'string' && typeof d?.message === 'string'))) {
    return 'details is not a list of {path, message}'
  }
  if (/\bat .+:\d+:\d+|node_modules|\/src\//.test(body)) return 'it carries a stack trace or a source path'
  return null
}

/** The one error shape: these keys only, the given code, a message, no stack trace anywhere. */
export function expectErrorShape (body: string, error: string): Record<string, unknown> {
  expect(errorShapeProblem(body), body).toBeNull()
  const parsed = JSON.parse(body) as Record<string, unknown>
  expect(parsed.error).toBe(error)
  return parsed
}
