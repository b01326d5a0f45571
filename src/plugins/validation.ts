import { Ajv, type ValidateFunction } from 'ajv'
import addFormats from 'ajv-formats'
import { fullFormats } from 'ajv-formats/dist/formats.js'
import fp from 'fastify-plugin'

const strict = new Ajv({ allErrors: false, removeAdditional: false, coerceTypes: false, useDefaults: true, strict: false })
const coercing = new Ajv({ allErrors: false, removeAdditional: false, coerceTypes: 'array', useDefaults: true, strict: false })

/**
 * RFC 3339 allows a leap second (`23:59:60`) that Date.parse refuses (NaN): a time the service
 * accepts must also be one it can compute with, so `date-time` asks for both.
 */
const rfc3339DateTime = fullFormats['date-time'] as { validate: (s: string) => boolean }
export const isInstant = (s: string): boolean => rfc3339DateTime.validate(s) && Number.isFinite(Date.parse(s))

for (const ajv of [strict, coercing]) {
  addFormats.default(ajv)
  ajv.addFormat('date-time', { type: 'string', validate: isInstant })
}

// Schemas are module constants: compiled once per process, not once per app (tests build hundreds).
const compiled = { strict: new WeakMap<object, ValidateFunction>(), coercing: new WeakMap<object, ValidateFunction>() }
function compile (kind: 'strict' | 'coercing', schema: object): ValidateFunction {
  let fn = compiled[kind].get(schema)
  if (fn === undefined) {
    const ajv = kind === 'strict' ? strict : coercing
    // A copy of a schema with an $id already compiled (a new object per app) reuses it: Ajv refuses the id twice.
    const id = (schema as { $id?: unknown }).$id
    fn = (typeof id === 'string' ? ajv.getSchema(id) : undefined) ?? ajv.compile(schema)
    compiled[kind].set(schema, fn)
  }
  return fn
}

/**
 * Bodies are checked strictly: unknown properties and wrong types are errors, never
 * silently dropped or coerced. Query strings and params arrive as text, so they alone
 * are coerced to the declared types.
 */
export const validationPlugin = fp(async (app) => {
  app.setValidatorCompiler(({ schema, httpPart }) => compile(httpPart === 'body' ? 'strict' : 'coercing', schema))
}, { name: 'popguard-validation' })
