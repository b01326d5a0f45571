/**
 * fast-check arbitraries for HTTP requests to the app: every route it serves (read from the app
 * itself), unknown routes and wrong methods, with headers, query strings and bodies that are
 * shaped like valid ones (from the OpenAPI schemas), slightly broken, or garbage.
 */
import fc from 'fast-check'
import type { FastifyInstance } from 'fastify'
import type { OpenApiDoc } from './openapi.js'

export interface Route { path: string, methods: string[] }
export interface FuzzRequest { method: string, url: string, headers: Record<string, string>, payload?: string | object }

type Schema = Record<string, any>
const ALL_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']

/** The routes the app serves, read from `printRoutes` (the OpenAPI document hides the docs' own routes). */
export function routesOf (app: FastifyInstance): Route[] {
  const routes: Route[] = []
  const stack: string[] = []
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /^([│ ]*)[├└]── (.+?) \(([A-Z, ]+)\)$/.exec(line)
    if (match === null) continue
    const depth = match[1]!.length / 4
    stack.length = depth
    stack.push(match[2]!)
    routes.push({ path: stack.join(''), methods: match[3]!.split(', ') })
  }
  return routes
}

/**
 * Strings the app knows: random text alone would rarely get past validation to deeper code.
 * `byField` gives the values a property of that name usually holds (`timezone`: zone names).
 */
export interface Vocabulary { campaigns: string[], users: string[], words: string[], byField: Record<string, string[]> }

/** Arbitraries are built once per shape: building one (a regular expression's above all) costs far more than drawing from it. */
function memo<K, T> (build: (key: K) => T): (key: K) => T {
  const made = new Map<K, T>()
  return (key) => {
    if (!made.has(key)) made.set(key, build(key))
    return made.get(key)!
  }
}

const text = memo((maxLength: number): fc.Arbitrary<string> => fc.oneof(
  fc.string({ maxLength }),
  fc.string({ unit: 'grapheme', maxLength }),
  fc.string({ unit: 'binary', maxLength })
))
const matching = memo((pattern: string) => fc.stringMatching(new RegExp(pattern)))

/**
 * Instants near now, anywhere from 1900 to 2300, and awkward ones (a leap second, impossible days,
 * the last instant before 1970 that once looped the events script, year zero, not a time).
 */
function dateTime (): fc.Arbitrary<string> {
  const now = Date.now()
  return fc.oneof(
    { weight: 4, arbitrary: fc.integer({ min: now - 3 * 86_400_000, max: now + 86_400_000 }).map((ms) => new Date(ms).toISOString()) },
    { weight: 1, arbitrary: fc.date({ min: new Date('1900-01-01T00:00:00Z'), max: new Date('2300-01-01T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString()) },
    { weight: 1, arbitrary: fc.constantFrom('2016-12-31T23:59:60Z', '1969-12-31T23:59:59.999Z', '0000-01-01T00:00:00Z', '2026-02-30T00:00:00Z', '2026-13-01T00:00:00Z', '2026-06-01T24:00:00Z', '2026-06-01', 'yesterday', '') }
  )
}

function stringFor (schema: Schema, vocabulary: Vocabulary): fc.Arbitrary<string> {
  const maxLength = Math.min(schema.maxLength ?? 64, 300)
  if (schema.format === 'date-time') return dateTime()
  if (schema.format === 'uuid') return fc.oneof({ weight: 1, arbitrary: fc.uuid() }, { weight: 3, arbitrary: fc.constant('$decision') }, { weight: 1, arbitrary: text(40) })
  const known = fc.constantFrom(...vocabulary.campaigns, ...vocabulary.users, ...vocabulary.words)
  if (typeof schema.pattern === 'string') {
    const shaped = matching(schema.pattern).filter((s) => s.length >= (schema.minLength ?? 0) && s.length <= maxLength)
    return fc.oneof({ weight: 3, arbitrary: known }, { weight: 2, arbitrary: shaped }, { weight: 1, arbitrary: text(maxLength + 2) })
  }
  return fc.oneof({ weight: 3, arbitrary: known }, { weight: 2, arbitrary: text(maxLength + 2) })
}

/** A value shaped by a JSON schema (the subset TypeBox writes), with the app's vocabulary for strings. */
export function fromSchema (schema: Schema, doc: OpenApiDoc, vocabulary: Vocabulary, depth = 0): fc.Arbitrary<unknown> {
  if (typeof schema.$ref === 'string') return fromSchema(doc.components?.schemas?.[schema.$ref.split('/').pop()!] ?? {}, doc, vocabulary, depth)
  if ('const' in schema) return fc.constant(schema.const)
  if (Array.isArray(schema.enum)) return fc.constantFrom(...schema.enum)
  const union = schema.anyOf ?? schema.oneOf
  if (Array.isArray(union)) return fc.oneof(...union.map((s: Schema) => fromSchema(s, doc, vocabulary, depth)))
  if (depth > 5) return fc.constant(null)
  switch (schema.type) {
    case 'object': {
      if (schema.properties !== undefined) {
        const shape = Object.fromEntries(Object.entries(schema.properties as Record<string, Schema>).map(([k, s]) => {
          const generic = fromSchema(s, doc, vocabulary, depth + 1)
          const usual = vocabulary.byField[k]
          return [k, usual === undefined ? generic : fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...usual) }, { weight: 1, arbitrary: generic })]
        }))
        return fc.record(shape, { requiredKeys: schema.required ?? [] })
      }
      const values = Object.values(schema.patternProperties ?? {})[0] ?? (typeof schema.additionalProperties === 'object' ? schema.additionalProperties : {})
      return fc.dictionary(stringFor({ maxLength: 64 }, vocabulary), fromSchema(values as Schema, doc, vocabulary, depth + 1), { maxKeys: 4 })
    }
    case 'array':
      return fc.array(fromSchema(schema.items ?? {}, doc, vocabulary, depth + 1), { minLength: Math.min(schema.minItems ?? 0, 3), maxLength: Math.min(schema.maxItems ?? 4, 4) })
    case 'string': return stringFor(schema, vocabulary)
    case 'integer': return fc.oneof(fc.integer({ min: schema.minimum ?? -1000, max: schema.maximum ?? 1000 }), fc.integer())
    case 'number': return fc.oneof(fc.double({ min: schema.minimum ?? -1000, max: schema.maximum ?? 1000, noNaN: true }), fc.double({ noNaN: true }))
    case 'boolean': return fc.boolean()
    case 'null': return fc.constant(null)
    default: return fc.jsonValue({ maxDepth: 2 })
  }
}

/** Every position in a JSON value where a mutation can land. */
function slots (value: unknown, path: (string | number)[] = []): (string | number)[][] {
  if (typeof value !== 'object' || value === null) return [path]
  const children = Array.isArray(value) ? value.map((v, i) => slots(v, [...path, i])) : Object.entries(value).map(([k, v]) => slots(v, [...path, k]))
  return [path, ...children.flat()]
}

/** The value with one slot dropped, replaced by any JSON, or given an unknown property. */
function mutated (shaped: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc.tuple(shaped, fc.nat(), fc.constantFrom('drop', 'replace', 'extra'), fc.jsonValue({ maxDepth: 2 })).map(([value, n, how, other]) => {
    const copy = structuredClone(value)
    const all = slots(copy)
    const path = all[n % all.length]!
    if (path.length === 0) return how === 'replace' ? other : copy
    const parent = path.slice(0, -1).reduce((v: any, k) => v[k], copy) as any
    const key = path[path.length - 1]!
    if (how === 'drop') Array.isArray(parent) ? parent.splice(Number(key), 1) : delete parent[key]
    else if (how === 'replace') parent[key] = other
    else if (typeof parent === 'object' && !Array.isArray(parent)) parent.zzUnknown = other
    return copy
  })
}

function bodyFor (schema: Schema | undefined, doc: OpenApiDoc, vocabulary: Vocabulary): fc.Arbitrary<string | object | undefined> {
  const garbage = fc.oneof(fc.constant(undefined), fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)), text(200),
    fc.constantFrom('{', '{"a":', '[]', 'null', '{"__proto__":{"x":1}}', '{"constructor":{"prototype":{"x":1}}}'))
  if (schema === undefined) return garbage
  const shaped = fromSchema(schema, doc, vocabulary)
  return fc.oneof(
    { weight: 5, arbitrary: shaped as fc.Arbitrary<object> },
    { weight: 3, arbitrary: mutated(shaped).map((v) => JSON.stringify(v) ?? '') },
    { weight: 1, arbitrary: garbage }
  )
}

const NUMBERS = ['-1', '0', '1', '50', '200', '201', '100000', '100001', '1e21', '1.5', 'NaN', 'Infinity', '-0', '0x10', '99999999999999999999', '']

function queryFor (parameters: Schema[], doc: OpenApiDoc, vocabulary: Vocabulary): fc.Arbitrary<string> {
  const known = parameters.filter((p) => p.in === 'query').map((p) => fc.option(
    fc.oneof(
      fromSchema(p.schema ?? {}, doc, vocabulary).map((v) => String(v)),
      fc.constantFrom(...NUMBERS),
      text(20)
    ).map((v) => `${encodeURIComponent(p.name as string)}=${encodeURIComponent(v)}`), { nil: '' }))
  const extra = fc.oneof(
    fc.constant(''),
    fc.tuple(matching('^[a-z]{1,8}$'), text(10)).map(([k, v]) => `${k}=${encodeURIComponent(v)}`),
    fc.constantFrom('offset=1&offset=2', '%zz=1', 'a=%zz', '&&==&', 'limit[]=1', 'from[gt]=x')
  )
  return fc.tuple(fc.tuple(...known), extra).map(([parts, more]) => [...parts, more].filter((p) => p !== '').join('&'))
}

function paramValue (vocabulary: Vocabulary): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...vocabulary.campaigns, ...vocabulary.users).map(encodeURIComponent) },
    { weight: 2, arbitrary: text(40).map(encodeURIComponent) },
    { weight: 1, arbitrary: fc.integer({ min: 250, max: 4000 }).map((n) => 'u'.repeat(n)) },
    { weight: 1, arbitrary: fc.constantFrom('%zz', '%', '%E0%A4%A', '..', '.', '%2F', '%00', 'a;b', '*') }
  )
}

/** The development key of each scope (README): the fuzzer holds every one of them. */
const KEY_OF_SCOPE: Record<string, string> = {
  client: 'dev-client-key', preferences: 'dev-preferences-key', admin: 'dev-admin-key', reports: 'dev-reports-key'
}
const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 60 })

function headersFor (auth: fc.Arbitrary<string | undefined>, contentType: fc.Arbitrary<string | undefined>, parameters: Schema[]): fc.Arbitrary<Record<string, string>> {
  const named = parameters.filter((p) => p.in === 'header').map((p) => p.name as string)
  return fc.record({
    authorization: auth,
    'content-type': contentType,
    'if-match': fc.constantFrom(undefined, '*', '"1"', '"2"', '1', 'W/"1"', '"nope"', 'garbage value', '"a", "b"'),
    'if-none-match': fc.constantFrom(undefined, '*', '"1"'),
    accept: fc.constantFrom(undefined, 'text/csv', 'application/json', '*/*', 'text/html'),
    'x-change-reason': fc.option(printable, { nil: undefined }),
    other: fc.option(fc.tuple(fc.oneof(fc.constantFrom(...named, 'x-request-id', 'accept-version', 'origin'), matching('^x-[a-z0-9-]{1,20}$')), printable), { nil: undefined })
  }).map(({ other, ...given }) => {
    const headers = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)) as Record<string, string>
    if (other !== undefined) headers[other[0]] = other[1]
    return headers
  })
}

const ANY_AUTH = fc.constantFrom(undefined, ...Object.values(KEY_OF_SCOPE).map((k) => `Bearer ${k}`), 'Bearer not-a-key',
  'Basic ZGV2LWFkbWluLWtleQ==', 'Bearer', 'bearer  dev-admin-key ', `Bearer ${'k'.repeat(300)}`)
const ANY_CONTENT_TYPE = fc.constantFrom(undefined, 'application/json', 'application/json; charset=utf-8', 'text/plain',
  'application/x-www-form-urlencoded', 'application/xml', 'multipart/form-data; boundary=x', 'application/json; charset=latin1', ';;')

interface Parts { path: fc.Arbitrary<string>, query: fc.Arbitrary<string>, headers: fc.Arbitrary<Record<string, string>>, payload: fc.Arbitrary<string | object | undefined> }

function request (method: string, parts: Parts): fc.Arbitrary<FuzzRequest> {
  return fc.record({ ...parts }).map(({ path, query, headers, payload }): FuzzRequest => ({
    method,
    url: query === '' ? path : `${path}?${query}`,
    headers,
    ...(payload === undefined ? {} : { payload })
  }))
}

/**
 * Requests to one of the app's routes: half careful (its own method, writes first, the key of its scope, JSON
 * shaped by its schema, so they reach the services and the store), half chaotic (any method,
 * any key or none, broken or garbage bodies, hostile path parameters and query strings).
 */
export function requestsTo (route: Route, doc: OpenApiDoc, vocabulary: Vocabulary): fc.Arbitrary<FuzzRequest> {
  const openApiPath = route.path.replace(/:(\w+)/g, '{$1}')
  const pathOf = (param: (name: string) => fc.Arbitrary<string>): fc.Arbitrary<string> =>
    fc.tuple(...route.path.split('/').map((s) => s.startsWith(':') || s === '*' ? param(s.slice(1)) : fc.constant(s))).map((parts) => parts.join('/'))
  const knownParam = (name: string): fc.Arbitrary<string> =>
    fc.constantFrom(...vocabulary.byField[name] ?? [...vocabulary.campaigns, ...vocabulary.users]).map(encodeURIComponent)
  // Built once per method, not per request: building an arbitrary costs far more than drawing from it.
  const byMethod = new Map(ALL_METHODS.map((m) => {
    const op = (doc.paths[openApiPath] as Record<string, Schema> | undefined)?.[m.toLowerCase()]
    const parameters: Schema[] = op?.parameters ?? []
    const scope = (op?.security as Record<string, string[]>[] | undefined)?.[0]?.apiKey?.[0]
    const bodySchema = op?.requestBody?.content?.['application/json']?.schema as Schema | undefined
    const careful = request(m, {
      path: pathOf(knownParam),
      query: fc.tuple(...parameters.filter((p) => p.in === 'query').map((p) =>
        fc.option(fromSchema(p.schema ?? {}, doc, vocabulary).map((v) => `${p.name as string}=${encodeURIComponent(String(v))}`), { nil: '' })))
        .map((parts) => parts.filter((q) => q !== '').join('&')),
      headers: headersFor(fc.constant(scope === undefined ? undefined : `Bearer ${KEY_OF_SCOPE[scope]!}`), fc.constant('application/json'), parameters),
      payload: bodySchema === undefined ? fc.constant(undefined) : fromSchema(bodySchema, doc, vocabulary) as fc.Arbitrary<object>
    })
    const chaotic = request(m, {
      path: pathOf(() => paramValue(vocabulary)),
      query: queryFor(parameters, doc, vocabulary),
      headers: headersFor(ANY_AUTH, ANY_CONTENT_TYPE, parameters),
      payload: bodyFor(bodySchema, doc, vocabulary)
    })
    return [m, { careful, chaotic }]
  }))
  const writes = route.methods.filter((m) => m !== 'GET' && m !== 'HEAD')
  const ownMethod = writes.length === 0
    ? fc.constantFrom(...route.methods)
    : fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...writes) }, { weight: 1, arbitrary: fc.constantFrom(...route.methods) })
  return fc.oneof(
    ownMethod.chain((m) => byMethod.get(m)!.careful),
    fc.constantFrom(...ALL_METHODS).chain((m) => byMethod.get(m)!.chaotic)
  )
}

/** Requests to paths no route serves: near misses of real ones and random ones. */
export function requestsToUnknownPaths (routes: Route[]): fc.Arbitrary<FuzzRequest> {
  const nearMiss = fc.tuple(fc.constantFrom(...routes.map((r) => r.path)), fc.constantFrom('/', '//', '/x', '.json', '%20', '/..')).map(([p, s]) => p.replace(/:\w+|\*/g, 'x') + s)
  const random = fc.array(matching('^[A-Za-z0-9._~-]{1,12}$'), { minLength: 1, maxLength: 5 }).map((parts) => `/${parts.join('/')}`)
  return fc.record({
    method: fc.constantFrom(...ALL_METHODS),
    url: fc.oneof(nearMiss, random, fc.constantFrom('/v2/decide', '/v1', '/', '/v1/users', '/docs/static/../../package.json')),
    headers: fc.constantFrom<Record<string, string>>({}, { authorization: 'Bearer dev-admin-key' })
  })
}
