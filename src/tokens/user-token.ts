import type { KeyObject } from 'node:crypto'
import type { JWTHeaderParameters } from 'jose'

/** The signature algorithms a token may use; never `none`, never one its key was not configured for. */
export const TOKEN_ALGORITHMS = ['HS256', 'ES256', 'EdDSA'] as const
export type TokenAlgorithm = typeof TOKEN_ALGORITHMS[number]

export interface VerificationKey {
  /** Chooses this key when the token's header names it; optional with a single key per algorithm. */
  kid?: string
  alg: TokenAlgorithm
  key: KeyObject
}

export interface TokenRules {
  issuer: string
  audience: string
  keys: readonly VerificationKey[]
  /** Longest lifetime accepted (`exp - iat`) and oldest `iat`, in seconds. */
  maxLifetimeSeconds: number
  /** Clock difference tolerated between the signer and popguard, in seconds. */
  clockToleranceSeconds: number
}

/** How long a subject may be: the bound of a user id. */
const MAX_SUBJECT_LENGTH = 256
/** A token longer than this is refused unread (a JWT naming one user fits in far less). */
export const MAX_TOKEN_LENGTH = 4096

export class TokenError extends Error {
  constructor (readonly reason: 'malformed' | 'expired' | 'not_yet_valid' | 'signature' | 'claims' | 'lifetime' | 'unknown_key') {
    super(`token ${reason.replaceAll('_', ' ')}`)
    this.name = 'TokenError'
  }
}

type Jose = typeof import('jose')
let jose: Promise<Jose> | undefined
/** Loaded on the first token: an instance without end-user tokens never pays for it at start. */
const loadJose = async (): Promise<Jose> => await (jose ??= import('jose'))

function reasonOf (err: unknown, { errors }: Jose): TokenError['reason'] {
  if (err instanceof TokenError) return err.reason
  if (err instanceof errors.JWTExpired) return 'expired'
  if (err instanceof errors.JWTClaimValidationFailed) return err.claim === 'nbf' || err.claim === 'iat' ? 'not_yet_valid' : 'claims'
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'signature'
  if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JWKSNoMatchingKey) return 'unknown_key'
  return 'malformed'
}

function keyChooser (keys: readonly VerificationKey[]): (header: JWTHeaderParameters) => KeyObject {
  return (header) => {
    const candidates = keys.filter((k) => k.alg === header.alg && (header.kid === undefined || k.kid === header.kid))
    if (candidates.length !== 1 || candidates[0] === undefined) throw new TokenError('unknown_key')
    return candidates[0].key
  }
}

/**
 * Verifies short-lived JWTs that name a user (`sub`): signed by a configured key with its own
 * algorithm, from the expected issuer for the expected audience, with `exp` and `iat` present,
 * a lifetime no longer than allowed and a bounded clock skew. One module for every token that
 * names a user: end-user tokens of device calls, and links of the preference centre.
 * Resolves to the user id; rejects with a TokenError saying why.
 */
export function userTokenVerifier (rules: TokenRules): (token: string) => Promise<string> {
  const chooseKey = keyChooser(rules.keys)
  const algorithms = [...new Set(rules.keys.map((k) => k.alg))]
  return async (token) => {
    const lib = await loadJose()
    try {
      if (token.length > MAX_TOKEN_LENGTH) throw new TokenError('malformed')
      const { payload } = await lib.jwtVerify(token, chooseKey, {
        algorithms,
        issuer: rules.issuer,
        audience: rules.audience,
        requiredClaims: ['sub', 'exp', 'iat'],
        maxTokenAge: rules.maxLifetimeSeconds,
        clockTolerance: rules.clockToleranceSeconds
      })
      const { sub, exp, iat } = payload as { sub: unknown, exp: number, iat: number }
      if (typeof sub !== 'string' || sub.length === 0 || sub.length > MAX_SUBJECT_LENGTH) throw new TokenError('claims')
      if (exp - iat > rules.maxLifetimeSeconds) throw new TokenError('lifetime')
      return sub
    } catch (err) {
      throw new TokenError(reasonOf(err, lib))
    }
  }
}
