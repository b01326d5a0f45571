import { FormatRegistry, type TSchema } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { Campaign, OTHER_PLACEMENT, Penalty, Policy, PolicyFile, type Cap } from './schema.js'
import { isValidTimeZone } from '../time.js'

export interface FieldError { path: string, message: string }

const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/
if (!FormatRegistry.Has('date-time')) {
  FormatRegistry.Set('date-time', (v) => ISO_DATE_TIME.test(v) && !Number.isNaN(Date.parse(v)))
}

const checkers = new Map<TSchema, ReturnType<typeof TypeCompiler.Compile>>()
function shapeErrors (schema: TSchema, value: unknown, prefix: string): FieldError[] {
  let checker = checkers.get(schema)
  if (checker === undefined) {
    checker = TypeCompiler.Compile(schema)
    checkers.set(schema, checker)
  }
  if (checker.Check(value)) return []
  // One message per path: TypeBox reports each failing union branch separately.
  const seen = new Map<string, string>()
  for (const e of checker.Errors(value)) {
    const path = prefix + e.path
    if (!seen.has(path)) seen.set(path, e.message)
  }
  return [...seen].map(([path, message]) => ({ path: path || '/', message }))
}

function duplicateIds (items: readonly { id: string }[], path: string): FieldError[] {
  const seen = new Set<string>()
  const errors: FieldError[] = []
  items.forEach((item, i) => {
    if (seen.has(item.id)) errors.push({ path: `${path}/${i}/id`, message: `duplicate id ${item.id}` })
    seen.add(item.id)
  })
  return errors
}

export function policyErrors (value: unknown, prefix = ''): FieldError[] {
  const errors = shapeErrors(Policy, value, prefix)
  if (errors.length > 0) return errors
  const policy = value as Policy
  if (!isValidTimeZone(policy.defaultTimezone)) {
    errors.push({ path: `${prefix}/defaultTimezone`, message: 'not a known IANA time zone' })
  }
  return [...errors, ...placementErrors(policy, prefix), ...duplicateIds(policy.caps, `${prefix}/caps`)]
}

/**
 * `other` stands for every undeclared placement, so it cannot be declared; the policy's own caps
 * may name only declared placements (or `other`), and counting per placement needs a list.
 */
function placementErrors (policy: Policy, prefix: string): FieldError[] {
  const errors: FieldError[] = []
  const declared = new Set(policy.placements ?? [])
  if (declared.has(OTHER_PLACEMENT)) {
    errors.push({ path: `${prefix}/placements/${(policy.placements ?? []).indexOf(OTHER_PLACEMENT)}`, message: `"${OTHER_PLACEMENT}" is implied: it stands for every undeclared placement` })
  }
  const capErrors = (caps: readonly Cap[], path: string): void => caps.forEach((cap, i) => {
    if (cap.per === 'placement' && policy.placements === undefined) {
      errors.push({ path: `${path}/${i}/per`, message: 'counting per placement needs the policy\'s placements list' })
    }
    const named = cap.match?.placement
    if (named !== undefined && named !== OTHER_PLACEMENT && !declared.has(named)) {
      errors.push({ path: `${path}/${i}/match/placement`, message: `"${named}" is not a declared placement` })
    }
  })
  capErrors(policy.caps, `${prefix}/caps`)
  capErrors(policy.health?.caps ?? [], `${prefix}/health/caps`)
  return errors
}

export function campaignErrors (value: unknown, prefix = ''): FieldError[] {
  const errors = shapeErrors(Campaign, value, prefix)
  if (errors.length > 0) return errors
  const c = value as Campaign
  if (c.startsAt !== null && c.endsAt !== null && Date.parse(c.endsAt) <= Date.parse(c.startsAt)) {
    errors.push({ path: `${prefix}/endsAt`, message: 'must be after startsAt' })
  }
  return [...errors, ...duplicateIds(c.caps, `${prefix}/caps`)]
}

export function penaltyErrors (value: unknown, prefix = ''): FieldError[] {
  const errors = shapeErrors(Penalty, value, prefix)
  if (errors.length > 0) return errors
  const p = value as Penalty
  if (p.action === 'limit' && p.caps.length === 0) errors.push({ path: `${prefix}/caps`, message: 'a limit needs at least one cap' })
  if (p.action === 'suspend' && p.caps.length > 0) errors.push({ path: `${prefix}/caps`, message: 'a suspension takes no caps' })
  return [...errors, ...duplicateIds(p.caps, `${prefix}/caps`)]
}

export function policyFileErrors (value: unknown): FieldError[] {
  const errors = shapeErrors(PolicyFile, value, '')
  if (errors.length > 0) return errors
  const file = value as PolicyFile
  return [
    ...policyErrors(file.policy, '/policy'),
    ...file.campaigns.flatMap((c, i) => campaignErrors(c, `/campaigns/${i}`)),
    ...duplicateIds(file.campaigns, '/campaigns')
  ]
}
