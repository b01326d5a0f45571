import type { TSchema } from '@sinclair/typebox'
import { COMPONENTS } from '../schemas/components.js'
import { EXAMPLES } from '../schemas/examples.js'

type Json = Record<string, unknown>

const PREFIX = '#/components/schemas/'
/** A component's name: its `$id`, or `x-component` for one used twice within a schema (Ajv refuses an `$id` twice). */
const nameOf = (schema: object): unknown => (schema as Json).$id ?? (schema as Json)['x-component']
const NAMES = new Set(COMPONENTS.map((s) => nameOf(s) as string))
const BY_NAME = new Map(COMPONENTS.map((s) => [nameOf(s) as string, s]))

/** What each error status means, for the responses of the contract (the body is always `Error`). */
const ERROR_DESCRIPTIONS: Record<string, string> = {
  400: 'Invalid input: `details` names each field at fault.',
  401: 'No valid credentials: an API key (`Authorization: Bearer <key>`), and an end-user token where the key requires one; on the preference centre, a valid link token.',
  403: 'The key lacks the scope of this operation, or the end-user token names another user.',
  404: 'Not found (for the preference centre: it is not configured).',
  409: 'Conflict with the current state.',
  412: 'The version in `If-Match` is no longer current.',
  413: 'The body is larger than this operation accepts.',
  415: 'The body is not JSON (`Content-Type: application/json`).',
  428: 'A precondition header is required.',
  503: 'Unavailable: this instance is overloaded and sheds load, or the store did not answer. `Retry-After` says when to try ' +
    'again where it is known. A client asking `decide` shows nothing.'
}

/** Statuses that may carry `Retry-After` (a rate limit, load shedding). */
const RETRY_AFTER_STATUSES = new Set(['429', '503'])
/** A fresh copy per response: @fastify/swagger wraps it as the header's schema. */
const retryAfter = (): Json => ({
  type: 'integer',
  minimum: 1,
  description: 'Seconds to wait before asking again (on 429, and on 503 when the instance sheds load).'
})

/**
 * A copy of `node` where every schema carrying a component's `$id` is a reference to it (the root
 * too, unless `keepRoot`). Throws on an `$id` that is not a component: it would be inlined silently.
 */
export function referenceComponents (node: unknown, keepRoot = false): unknown {
  const visit = (value: unknown, root: boolean): unknown => {
    if (Array.isArray(value)) return value.map((v) => visit(v, false))
    if (typeof value !== 'object' || value === null) return value
    const { $id, 'x-component': _, ...rest } = value as Json
    const name = nameOf(value)
    if (typeof name === 'string' && !(root && keepRoot)) {
      if (!NAMES.has(name)) throw new Error(`schema "${name}" is not in COMPONENTS (src/schemas/components.ts)`)
      return { $ref: PREFIX + name }
    }
    return Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, visit(v, false)]))
  }
  return visit(node, true)
}

/** `components.schemas` of the document: each named schema, its nested named ones as references. */
export function componentSchemas (): Record<string, object> {
  return Object.fromEntries(COMPONENTS.map((s) => [nameOf(s) as string, referenceComponents(s, true) as object]))
}

const refName = (schema: unknown): string | undefined => {
  const ref = (schema as Json | undefined)?.$ref
  return typeof ref === 'string' && ref.startsWith(PREFIX) ? ref.slice(PREFIX.length) : undefined
}

/**
 * Each response that is a bare reference gets a description of its own (per status for errors)
 * and, for the main operations, an example.
 */
function describeResponses (responses: Json, examples: Record<number, unknown> | undefined): void {
  for (const [status, schema] of Object.entries(responses)) {
    const name = refName(schema)
    if (name === undefined) continue
    const description = name === 'Error'
      ? ERROR_DESCRIPTIONS[status] ?? 'An error.'
      : (BY_NAME.get(name) as TSchema | undefined)?.description ?? name
    const example = examples?.[Number(status)]
    responses[status] = {
      description,
      ...(RETRY_AFTER_STATUSES.has(status) ? { headers: { 'Retry-After': retryAfter() } } : {}),
      content: { 'application/json': { schema, ...(example === undefined ? {} : { example }) } }
    }
  }
}

/** Any route, public ones included, refuses these before routing (the only 4xx a public route answers). */
const BEFORE_ROUTING = {
  description: 'A malformed, oversized or too slow request, refused before routing (400, 408, 414, 431).',
  content: { 'application/json': { schema: { $ref: PREFIX + 'Error' } } }
}

/**
 * The route schema as the contract shows it: named schemas referenced, public routes marked
 * public (`security: []`), the others with the scope their key needs, examples on the main operations.
 */
export function contractSchema (schema: Json, scope: string | undefined, namesUsers: boolean, linkToken = false): Json {
  const named = referenceComponents(schema) as Json
  // A key configured for device calls needs the end-user token as well (docs/clients.md).
  // The preference centre takes a link token only (docs/user-control.md).
  named.security = linkToken
    ? [{ preferenceLink: [] }]
    : scope === undefined ? [] : namesUsers ? [{ apiKey: [scope] }, { apiKey: [scope], userToken: [] }] : [{ apiKey: [scope] }]
  const responses = named.response as Json | undefined
  if (responses !== undefined) {
    describeResponses(responses, EXAMPLES[String(named.operationId)]?.responses)
    if (!Object.keys(responses).some((status) => status.startsWith('4'))) responses['4XX'] = BEFORE_ROUTING
  }
  return named
}

interface Operation { operationId?: string, requestBody?: { content?: Record<string, Json> }, responses?: Record<string, { headers?: Record<string, Json> }> }
interface Document { paths: Record<string, Record<string, Operation>>, components?: { headers?: Record<string, Json> } }

/** Every answer, errors included, echoes the request id (src/plugins/request-id.ts): one header component, referenced by each response. */
export function addRequestIdHeaders<D> (document: D): D {
  const doc = document as Document
  doc.components = doc.components ?? {}
  doc.components.headers = {
    ...doc.components.headers,
    RequestId: {
      description: 'The request id: the caller\'s `X-Request-Id` when it is 1-128 of `A-Z a-z 0-9 . _ : = + / @ -`, else a new UUID. ' +
        'The same id is on the request\'s log lines (`reqId`).',
      schema: { type: 'string', maxLength: 128 }
    }
  }
  for (const item of Object.values(doc.paths)) {
    for (const op of Object.values(item)) {
      for (const response of Object.values(op.responses ?? {})) {
        response.headers = { ...response.headers, 'X-Request-Id': { $ref: '#/components/headers/RequestId' } }
      }
    }
  }
  return document
}

/** Request examples go on the media type: @fastify/swagger drops a `$ref`'s siblings from the body schema. */
export function addRequestExamples<D> (document: D): D {
  for (const item of Object.values((document as Document).paths)) {
    for (const op of Object.values(item)) {
      const example = EXAMPLES[op.operationId ?? '']?.request
      const media = op.requestBody?.content?.['application/json']
      if (example !== undefined && media !== undefined) media.example = example
    }
  }
  return document
}
