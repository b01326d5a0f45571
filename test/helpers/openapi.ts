import { readFileSync } from 'node:fs'
import { Ajv2020 } from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'
import type { LightMyRequestResponse } from 'fastify'
import { parse } from 'yaml'

export const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const

export interface Operation {
  path: string
  method: typeof METHODS[number]
  operationId?: string
  tags?: string[]
  security?: Record<string, string[]>[]
  requestBody?: unknown
  responses: Record<string, { description?: string, content?: Record<string, { schema: object }> }>
}

export interface OpenApiDoc {
  openapi: string
  paths: Record<string, Partial<Record<typeof METHODS[number], Operation>>>
  components?: { schemas?: Record<string, object>, securitySchemes?: Record<string, unknown> }
  [key: string]: unknown
}

/** The committed openapi.yaml: the contract clients build against. */
export function committedSpec (): OpenApiDoc {
  return parse(readFileSync(new URL('../../openapi.yaml', import.meta.url), 'utf8')) as OpenApiDoc
}

export function operations (doc: OpenApiDoc): Operation[] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    METHODS.flatMap((method) => item[method] === undefined ? [] : [{ ...item[method], path, method }]))
}

/** Validates real responses against the document's response schema for their path, method and status. */
export function responseChecker (doc: OpenApiDoc): (path: string, method: string, res: LightMyRequestResponse) => void {
  const ajv = new Ajv2020({ strict: false, allErrors: true })
  addFormats.default(ajv)
  return (path, method, res) => {
    const op = doc.paths[path]?.[method.toLowerCase() as Operation['method']]
    if (op === undefined) throw new Error(`openapi.yaml has no ${method} ${path}`)
    const response = op.responses[String(res.statusCode)]
    if (response === undefined) throw new Error(`openapi.yaml does not declare status ${res.statusCode} for ${method} ${path}: ${res.body}`)
    const contentType = String(res.headers['content-type'] ?? '').split(';')[0]!
    const media = response.content?.[contentType]
    if (media === undefined) {
      throw new Error(`openapi.yaml declares no ${contentType} body for ${method} ${path} ${res.statusCode} (has ${Object.keys(response.content ?? {}).join(', ')})`)
    }
    if (contentType !== 'application/json') return
    const validate = ajv.compile({ ...media.schema, components: doc.components })
    if (!validate(res.json())) {
      throw new Error(`${method} ${path} ${res.statusCode} does not match openapi.yaml: ${ajv.errorsText(validate.errors)}\n${res.body}`)
    }
  }
}
