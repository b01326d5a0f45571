import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export interface BuildInfo {
  /** package.json's version. */
  version: string
  /** The commit the image was built from (POPGUARD_COMMIT at build time), or `unknown`. */
  commit: string
}

/** popguard's package.json, found from src/metrics (tsx, vitest) and from dist/src/metrics (node). */
const PACKAGE_JSON = ['../../package.json', '../../../package.json']
  .map((rel) => fileURLToPath(new URL(rel, import.meta.url)))
  .find((path) => existsSync(path) && (JSON.parse(readFileSync(path, 'utf8')) as { name?: string }).name === 'popguard')

export function buildInfo (commit: string): BuildInfo {
  const version = PACKAGE_JSON === undefined ? undefined : (JSON.parse(readFileSync(PACKAGE_JSON, 'utf8')) as { version?: unknown }).version
  return { version: typeof version === 'string' ? version : 'unknown', commit }
}
