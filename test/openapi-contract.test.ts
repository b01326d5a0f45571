// What a client developer generating code from openapi.yaml gets: named types, declared tags,
// public routes marked public, examples that are valid.
import { Ajv2020 } from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'
import { describe, expect, it } from 'vitest'
import { committedSpec, operations } from './helpers/openapi.js'

const spec = committedSpec()
const schemas = spec.components?.schemas ?? {}

/** Every object in the document outside components.schemas, with where it is. */
function * objectsOutsideComponents (node: unknown, path = ''): Generator<[string, Record<string, unknown>]> {
  if (typeof node !== 'object' || node === null) return
  if (path === '/components/schemas') return
  if (!Array.isArray(node)) yield [path, node as Record<string, unknown>]
  for (const [k, v] of Object.entries(node)) yield * objectsOutsideComponents(v, `${path}/${k}`)
}

describe('the contract for code generators', () => {
  it('names the main request and response schemas as components, and no def-N', () => {
    expect(Object.keys(schemas)).toEqual(expect.arrayContaining([
      'Error', 'DecideRequest', 'DecideResponse', 'CandidateVerdict', 'EventsRequest', 'Event', 'EventsResponse',
      'Preferences', 'PreferencesRequest', 'Policy', 'Cap', 'Campaign', 'StoredPolicy', 'Health', 'DailyReport', 'CampaignReport'
    ]))
    expect(Object.keys(schemas).filter((name) => /^def-\d+$/.test(name))).toEqual([])
  })

  it('references the error body and caps instead of inlining them', () => {
    const inlined = [...objectsOutsideComponents(spec)].filter(([, o]) => {
      const props = o.properties as Record<string, unknown> | undefined
      return props !== undefined && (('error' in props && 'message' in props) || ('per' in props && 'window' in props))
    })
    expect(inlined.map(([path]) => path)).toEqual([])
    const decide = operations(spec).find((o) => o.operationId === 'decide')!
    expect((decide.requestBody as any).content['application/json'].schema).toEqual({ $ref: '#/components/schemas/DecideRequest' })
    expect(decide.responses['200']!.content!['application/json']!.schema).toEqual({ $ref: '#/components/schemas/DecideResponse' })
    expect(decide.responses['400']!.content!['application/json']!.schema).toEqual({ $ref: '#/components/schemas/Error' })
    expect(JSON.stringify(schemas.Policy)).toContain('"$ref":"#/components/schemas/Cap"')
  })

  it('declares every tag an operation uses, each with a description', () => {
    const declared = new Map((spec.tags as { name: string, description?: string }[]).map((t) => [t.name, t.description]))
    for (const op of operations(spec)) {
      for (const tag of op.tags ?? []) {
        expect(declared.has(tag), `${op.operationId}: tag ${tag}`).toBe(true)
        expect(declared.get(tag), `tag ${tag}`).toBeTruthy()
      }
    }
  })

  it('marks the public operations public and every other one with its key scope', () => {
    const byId = new Map(operations(spec).map((o) => [o.operationId, o]))
    for (const id of ['healthz', 'readyz', 'metrics', 'reportPage']) expect(byId.get(id)?.security, id).toEqual([])
    expect(byId.get('decide')?.security).toEqual([{ apiKey: ['client'] }, { apiKey: ['client'], userToken: [] }])
    expect(byId.get('putPolicy')?.security).toEqual([{ apiKey: ['admin'] }])
    for (const op of operations(spec)) expect(op.security, op.operationId).toBeDefined()
  })

  it('gives examples on the main operations, each valid against its schema', () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true })
    addFormats.default(ajv)
    const validate = (schema: object, value: unknown, where: string): void => {
      const check = ajv.compile({ ...schema, components: spec.components })
      expect(check(value), `${where}: ${ajv.errorsText(check.errors)}`).toBe(true)
    }
    const byId = new Map(operations(spec).map((o) => [o.operationId, o]))
    for (const id of ['decide', 'recordEvents', 'putPreferences', 'putPolicy']) {
      const media = (byId.get(id)!.requestBody as any).content['application/json']
      expect(media.example, `${id} request example`).toBeDefined()
      validate(media.schema, media.example, `${id} request`)
    }
    for (const id of ['decide', 'recordEvents', 'getPreferences', 'putPreferences', 'getPolicy', 'putPolicy']) {
      const answers = Object.entries(byId.get(id)!.responses).filter(([status]) => status.startsWith('2'))
      const media = answers.map(([, r]) => r.content!['application/json'] as { schema: object, example?: unknown })
      expect(media.some((m) => m.example !== undefined), `${id} answer example`).toBe(true)
      for (const m of media) if (m.example !== undefined) validate(m.schema, m.example, `${id} answer`)
    }
  })
})
