import { Ajv } from 'ajv'
import addFormats from 'ajv-formats'
import type { FastifyInstance } from 'fastify'

/**
 * Bodies are checked strictly: unknown properties and wrong types are errors, never
 * silently dropped or coerced. Query strings and params arrive as text, so they alone
 * are coerced to the declared types.
 */
export function useStrictValidation (app: FastifyInstance): void {
  const strict = new Ajv({ allErrors: false, removeAdditional: false, coerceTypes: false, useDefaults: true, strict: false })
  const coercing = new Ajv({ allErrors: false, removeAdditional: false, coerceTypes: 'array', useDefaults: true, strict: false })
  for (const ajv of [strict, coercing]) addFormats.default(ajv)
  app.setValidatorCompiler(({ schema, httpPart }) =>
    (httpPart === 'body' ? strict : coercing).compile(schema))
}
