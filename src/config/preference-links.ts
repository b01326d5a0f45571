import { Type, type Static } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import type { TokenRules, VerificationKey } from '../tokens/user-token.js'
import { KeyEntry, keyObject } from './end-user-tokens.js'

const DEFAULT_MAX_LIFETIME_S = 900
const CLOCK_TOLERANCE_S = 30

/** A page allowed to frame the preference centre: an origin, `'self'`, or an app scheme of a web view (`myapp:`). */
const FrameAncestor = Type.String({ pattern: "^(https?://[A-Za-z0-9.*-]+(:[0-9]{1,5})?|'self'|[a-z][a-z0-9+.-]{1,30}:)$", maxLength: 256 })

const Variable = Type.Object({
  issuer: Type.String({ minLength: 1, maxLength: 256 }),
  audience: Type.String({ minLength: 1, maxLength: 256 }),
  // A link is opened at once by the user it was made for: an hour at most.
  maxLifetimeSeconds: Type.Optional(Type.Integer({ minimum: 10, maximum: 3600 })),
  keys: Type.Array(KeyEntry, { minItems: 1, maxItems: 10 }),
  frameAncestors: Type.Optional(Type.Array(FrameAncestor, { maxItems: 20 }))
}, { additionalProperties: false })
const checker = TypeCompiler.Compile(Variable)

/** Who may sign links to the preference centre, and which pages may frame it. */
export interface PreferenceLinkRules extends TokenRules {
  /** CSP `frame-ancestors` sources; empty: the page may not be framed at all. */
  frameAncestors: readonly string[]
}

/**
 * Parses POPGUARD_PREFERENCE_LINKS: the issuer, audience and keys of the link tokens an app's
 * backend signs for one user (the same JWT rules as end-user tokens), and the pages allowed to
 * frame the page. Throws a message naming the faulty field; the caller names the variable.
 */
export function parsePreferenceLinks (text: string): PreferenceLinkRules {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new Error('not JSON: expected {"issuer", "audience", "keys": [...], "frameAncestors": [...]}')
  }
  const error = checker.Errors(parsed).First()
  if (error !== undefined) throw new Error(`${error.path || '/'}: ${error.message}`)
  const r = parsed as Static<typeof Variable>
  const keys: VerificationKey[] = r.keys.map((k, i) => ({ ...(k.kid === undefined ? {} : { kid: k.kid }), alg: k.alg, key: keyObject(k, `/keys/${i}`) }))
  return {
    issuer: r.issuer,
    audience: r.audience,
    keys,
    maxLifetimeSeconds: r.maxLifetimeSeconds ?? DEFAULT_MAX_LIFETIME_S,
    clockToleranceSeconds: CLOCK_TOLERANCE_S,
    frameAncestors: r.frameAncestors ?? []
  }
}
