import type { FastifySchemaValidationError } from 'fastify'
import type { FieldDetail } from '../rules/errors.js'

const pathOf = (v: FastifySchemaValidationError): string => {
  const missing = v.keyword === 'required' ? `/${String(v.params.missingProperty)}` : ''
  const extra = v.keyword === 'additionalProperties' ? `/${String(v.params.additionalProperty)}` : ''
  return (v.instancePath || '') + missing + extra || '/'
}

const listed = (values: unknown[]): string => values.map((x) => typeof x === 'string' ? x : JSON.stringify(x)).join(', ')

/** What a union of literals or types allows, from the errors of its branches; null when a branch failed deeper. */
function alternatives (branches: FastifySchemaValidationError[]): string | null {
  const values: unknown[] = []
  const types: string[] = []
  for (const b of branches) {
    if (b.keyword === 'const') values.push(b.params.allowedValue)
    else if (b.keyword === 'enum') values.push(...(b.params.allowedValues as unknown[]))
    else if (b.keyword === 'type') types.push(String(b.params.type))
    else return null
  }
  if (types.length === 0) return `must be one of: ${listed(values)}`
  return `must be ${[...types, ...values.map((x) => JSON.stringify(x))].join(' or ')}`
}

/**
 * Field details from Ajv's errors. A union (`anyOf`) of literals fails with one error per branch
 * ("must be equal to constant", again and again) and one "must match a schema in anyOf": those
 * become one detail naming the allowed values, e.g. `must be one of: shown, discarded`.
 */
export function validationDetails (errors: FastifySchemaValidationError[]): FieldDetail[] {
  const details: FieldDetail[] = []
  let pending: FastifySchemaValidationError[] = []
  for (const v of errors) {
    if (v.keyword === 'anyOf') {
      const prefix = `${v.schemaPath}/`
      const branches = pending.filter((b) => b.schemaPath.startsWith(prefix) && b.instancePath === v.instancePath)
      const allowed = alternatives(branches)
      // A branch that failed deeper (a format, a pattern) says more than a summary: keep Ajv's errors then.
      const kept = allowed === null ? pending : pending.filter((b) => !branches.includes(b))
      details.push(...kept.map((b) => ({ path: pathOf(b), message: b.message ?? 'is invalid' })))
      details.push({ path: pathOf(v), message: allowed ?? v.message ?? 'is invalid' })
      pending = []
      continue
    }
    if (v.keyword === 'enum') {
      details.push({ path: pathOf(v), message: `must be one of: ${listed(v.params.allowedValues as unknown[])}` })
      continue
    }
    pending.push(v)
  }
  details.push(...pending.map((b) => ({ path: pathOf(b), message: b.message ?? 'is invalid' })))
  return details
}
