import { generateKeyPairSync, type KeyObject } from 'node:crypto'
import { SignJWT } from 'jose'
import { DEV_API_KEYS, parseApiKeys } from '../../src/config/api-keys.js'
import { parseEndUserTokens } from '../../src/config/end-user-tokens.js'
import type { AppConfig } from '../../src/config/config.js'

/** A key shipped in a device app: it requires end-user tokens. */
export const DEVICE_KEY = 'device-app-public-key'
export const HS_SECRET = 'a-shared-secret-of-the-app-backend-32+'
export const ISSUER = 'https://backend.shop.test'
export const AUDIENCE = 'popguard'
export const ALLOWED_ORIGIN = 'http://shop.test:8080'

export const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
export const ed = generateKeyPairSync('ed25519')

/** POPGUARD_END_USER_TOKENS for the device key: HS256, ES256 and EdDSA keys, one browser origin. */
export function endUserTokensVariable (origins: string[] = [ALLOWED_ORIGIN]): string {
  return JSON.stringify({
    'device-app': {
      issuer: ISSUER,
      audience: AUDIENCE,
      maxLifetimeSeconds: 600,
      keys: [
        { kid: 'hs-1', alg: 'HS256', secret: HS_SECRET },
        { kid: 'ec-1', alg: 'ES256', jwk: ec.publicKey.export({ format: 'jwk' }) },
        { alg: 'EdDSA', jwk: ed.publicKey.export({ format: 'jwk' }) }
      ],
      origins
    }
  })
}

/** The development keys and the device key, as the app's configuration. */
export function deviceConfig (origins?: string[]): Partial<AppConfig> {
  const apiKeys = parseApiKeys(`${DEV_API_KEYS},device-app:client+preferences:${DEVICE_KEY}`)
  return { apiKeys, endUserTokens: parseEndUserTokens(endUserTokensVariable(origins), new Set(apiKeys.map((k) => k.name))) }
}

export interface TokenOptions {
  alg?: 'HS256' | 'ES256' | 'EdDSA'
  kid?: string
  issuer?: string
  audience?: string
  /** Seconds from now. */
  iat?: number
  exp?: number
  key?: KeyObject | Uint8Array
}

/** What an app's backend signs for its user: a short-lived JWT naming the user. */
export async function userToken (sub: string, o: TokenOptions = {}): Promise<string> {
  const alg = o.alg ?? 'HS256'
  const now = Math.floor(Date.now() / 1000)
  const key = o.key ?? (alg === 'HS256' ? new TextEncoder().encode(HS_SECRET) : alg === 'ES256' ? ec.privateKey : ed.privateKey)
  const kid = o.kid ?? (alg === 'HS256' ? 'hs-1' : alg === 'ES256' ? 'ec-1' : undefined)
  return await new SignJWT({})
    .setProtectedHeader({ alg, ...(kid === undefined ? {} : { kid }) })
    .setSubject(sub)
    .setIssuer(o.issuer ?? ISSUER)
    .setAudience(o.audience ?? AUDIENCE)
    .setIssuedAt(now + (o.iat ?? 0))
    .setExpirationTime(now + (o.exp ?? 300))
    .sign(key)
}
