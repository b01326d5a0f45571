import { SignJWT } from 'jose'
import type { AppConfig } from '../../src/config/config.js'
import { parsePreferenceLinks } from '../../src/config/preference-links.js'
import type { Campaign, PolicyFile } from '../../src/rules/policy/schema.js'
import { campaign, policy } from './app.js'

export const LINK_SECRET = 'the-app-backend-signs-preference-links-with-this'
export const LINK_ISSUER = 'https://backend.shop.test'
export const LINK_AUDIENCE = 'popguard-preferences'

/** POPGUARD_PREFERENCE_LINKS as a test sets it. */
export function preferenceLinksVariable (frameAncestors?: string[]): string {
  return JSON.stringify({
    issuer: LINK_ISSUER,
    audience: LINK_AUDIENCE,
    maxLifetimeSeconds: 900,
    keys: [{ alg: 'HS256', secret: LINK_SECRET }],
    ...(frameAncestors === undefined ? {} : { frameAncestors })
  })
}

export function linkConfig (frameAncestors?: string[]): Partial<AppConfig> {
  return { preferenceLinks: parsePreferenceLinks(preferenceLinksVariable(frameAncestors)) }
}

/** What an app's backend signs to open the preference centre for one user. */
export async function linkToken (sub: string, o: { iat?: number, exp?: number, secret?: string, audience?: string } = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000)
  return await new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuer(LINK_ISSUER)
    .setAudience(o.audience ?? LINK_AUDIENCE)
    .setIssuedAt(now + (o.iat ?? 0))
    .setExpirationTime(now + (o.exp ?? 600))
    .sign(new TextEncoder().encode(o.secret ?? LINK_SECRET))
}

const c = (id: string, over: Partial<Campaign>): Campaign => campaign(id, over)

/** A registry with two marketing categories (named in English and Chinese), a service and a critical one. */
export const CENTER_POLICY: PolicyFile = {
  policy: policy({
    categories: {
      promo: { name: 'Sales and offers', names: { 'zh-Hans': '促销和优惠' } },
      loans: { name: 'Loans and credit', names: { 'zh-Hans': '贷款和信贷' } },
      security: { name: 'Security warnings', names: { 'zh-Hans': '安全警告' } },
      app: { name: 'App updates', names: { 'zh-Hans': '应用更新' } }
    }
  }),
  campaigns: [
    c('spring-sale', { name: 'Spring sale', category: 'promo', priority: 50 }),
    c('quick-loan', { name: 'Quick loan offer', category: 'loans', priority: 60 }),
    c('app-update', { name: 'Please update the app', class: 'service', category: 'app', priority: 70 }),
    c('fraud-warning', { name: 'Fraud-risk warning', class: 'critical', category: 'security', priority: 100 })
  ]
}
