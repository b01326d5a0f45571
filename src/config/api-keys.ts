export const SCOPES = ['client', 'preferences', 'admin', 'reports'] as const
export type Scope = typeof SCOPES[number]

export interface ApiKey {
  /** Who acts: written to the audit trail, never the secret. */
  name: string
  scopes: ReadonlySet<Scope>
  secret: string
}

/** Development keys, printed in the README; used only when no keys are configured outside production. */
export const DEV_API_KEYS = 'dev-client:client:dev-client-key,dev-app:preferences:dev-preferences-key,' +
  'dev-admin:admin+reports:dev-admin-key,dev-reports:reports:dev-reports-key'

const MIN_SECRET_LENGTH = 12

/** Parses `name:scope+scope:secret,...`; throws with the faulty entry's position. */
export function parseApiKeys (text: string): ApiKey[] {
  const keys = text.split(',').map((s) => s.trim()).filter((s) => s !== '').map((entry, i) => {
    const first = entry.indexOf(':')
    const second = entry.indexOf(':', first + 1)
    if (first <= 0 || second <= first) throw new Error(`entry ${i + 1} is not name:scope+scope:secret`)
    const name = entry.slice(0, first)
    const scopes = entry.slice(first + 1, second).split('+')
    const secret = entry.slice(second + 1)
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name)) throw new Error(`entry ${i + 1}: name must be 1-64 letters, digits, _ . -`)
    for (const s of scopes) {
      if (!(SCOPES as readonly string[]).includes(s)) throw new Error(`entry ${i + 1} (${name}): unknown scope "${s}"; scopes are ${SCOPES.join(', ')}`)
    }
    if (secret.length < MIN_SECRET_LENGTH) throw new Error(`entry ${i + 1} (${name}): secret shorter than ${MIN_SECRET_LENGTH} characters`)
    return { name, scopes: new Set(scopes as Scope[]), secret }
  })
  const names = new Set<string>()
  for (const k of keys) {
    if (names.has(k.name)) throw new Error(`key name ${k.name} appears twice`)
    names.add(k.name)
  }
  return keys
}
