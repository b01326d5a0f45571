import { createPublicKey, createSecretKey, type JsonWebKey, type KeyObject } from 'node:crypto'
import { Type, type Static } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { TOKEN_ALGORITHMS, type TokenRules, type VerificationKey } from '../tokens/user-token.js'

const DEFAULT_MAX_LIFETIME_S = 900
const CLOCK_TOLERANCE_S = 30
const MIN_SECRET_LENGTH = 32

const Origin = Type.String({ pattern: '^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$', maxLength: 256 })

export const KeyEntry = Type.Object({
  kid: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  alg: Type.Union(TOKEN_ALGORITHMS.map((a) => Type.Literal(a))),
  /** HS256: the shared secret, at least 32 characters. */
  secret: Type.Optional(Type.String({ minLength: MIN_SECRET_LENGTH, maxLength: 1024 })),
  /** ES256 / EdDSA: the public key as a JWK. */
  jwk: Type.Optional(Type.Record(Type.String(), Type.Unknown()))
}, { additionalProperties: false })

const KeyRules = Type.Object({
  issuer: Type.String({ minLength: 1, maxLength: 256 }),
  audience: Type.String({ minLength: 1, maxLength: 256 }),
  // Short-lived by construction: an hour at most, so a token leaked from a device soon stops working.
  maxLifetimeSeconds: Type.Optional(Type.Integer({ minimum: 10, maximum: 3600 })),
  keys: Type.Array(KeyEntry, { minItems: 1, maxItems: 10 }),
  origins: Type.Optional(Type.Array(Origin, { maxItems: 50 }))
}, { additionalProperties: false })

const Variable = Type.Record(Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' }), KeyRules, { additionalProperties: false })
const checker = TypeCompiler.Compile(Variable)

/** What a key configured for end-user tokens requires of a request, and where browsers may call from. */
export interface EndUserTokenRules extends TokenRules {
  origins: readonly string[]
}

/** Every origin some key's end-user tokens may be used from: the pages allowed to read popguard's answers (CORS). */
export function browserOrigins (tokens: ReadonlyMap<string, EndUserTokenRules>): Set<string> {
  return new Set([...tokens.values()].flatMap((r) => r.origins))
}

export function keyObject (entry: Static<typeof KeyEntry>, where: string): KeyObject {
  if (entry.alg === 'HS256') {
    if (entry.secret === undefined || entry.jwk !== undefined) throw new Error(`${where}: HS256 takes a "secret" (no "jwk")`)
    return createSecretKey(Buffer.from(entry.secret, 'utf8'))
  }
  if (entry.jwk === undefined || entry.secret !== undefined) throw new Error(`${where}: ${entry.alg} takes a public "jwk" (no "secret")`)
  if ('d' in entry.jwk) throw new Error(`${where}: the jwk holds a private key; give the public key only`)
  let key: KeyObject
  try {
    key = createPublicKey({ key: entry.jwk as JsonWebKey, format: 'jwk' })
  } catch (err) {
    throw new Error(`${where}: not a usable public jwk (${(err as Error).message})`)
  }
  const expected = entry.alg === 'ES256' ? 'ec' : 'ed25519'
  const curveOk = entry.alg !== 'ES256' || key.asymmetricKeyDetails?.namedCurve === 'prime256v1'
  if (key.asymmetricKeyType !== expected || !curveOk) throw new Error(`${where}: the jwk is not a key for ${entry.alg}`)
  return key
}

/**
 * Parses POPGUARD_END_USER_TOKENS: a JSON object from API key names to the tokens that key
 * requires (issuer, audience, keys, max lifetime) and the browser origins it may be called from.
 * Throws a message naming the faulty entry; the caller names the variable.
 */
export function parseEndUserTokens (text: string, apiKeyNames: ReadonlySet<string>): Map<string, EndUserTokenRules> {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new Error('not JSON: expected {"<api key name>": {"issuer", "audience", "keys": [...], "origins": [...]}}')
  }
  const error = checker.Errors(parsed).First()
  if (error !== undefined) throw new Error(`${error.path || '/'}: ${error.message}`)
  const rules = new Map<string, EndUserTokenRules>()
  for (const [name, r] of Object.entries(parsed as Static<typeof Variable>)) {
    if (!apiKeyNames.has(name)) throw new Error(`/${name}: no API key of that name in POPGUARD_API_KEYS`)
    const keys: VerificationKey[] = r.keys.map((k, i) => ({ ...(k.kid === undefined ? {} : { kid: k.kid }), alg: k.alg, key: keyObject(k, `/${name}/keys/${i}`) }))
    rules.set(name, {
      issuer: r.issuer,
      audience: r.audience,
      keys,
      maxLifetimeSeconds: r.maxLifetimeSeconds ?? DEFAULT_MAX_LIFETIME_S,
      clockToleranceSeconds: CLOCK_TOLERANCE_S,
      origins: r.origins ?? []
    })
  }
  return rules
}
