const MAX_CHANGES = 50

function isPlainObject (v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function escape (key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1')
}

/**
 * The JSON pointers at which `after` differs from `before`, deepest first found, at most 50:
 * a short, readable "what changed" for the audit trail and the policy history.
 */
export function changedPaths (before: unknown, after: unknown, base = ''): string[] {
  const out: string[] = []
  const walk = (a: unknown, b: unknown, path: string): void => {
    if (out.length >= MAX_CHANGES) return
    if (isPlainObject(a) && isPlainObject(b)) {
      for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) walk(a[key], b[key], `${path}/${escape(key)}`)
      return
    }
    if (Array.isArray(a) && Array.isArray(b)) {
      for (let i = 0; i < Math.max(a.length, b.length); i++) walk(a[i], b[i], `${path}/${i}`)
      return
    }
    if (JSON.stringify(a) !== JSON.stringify(b)) out.push(path || '/')
  }
  walk(before, after, base)
  return out
}
