// Writes openapi.yaml from the route schemas; with --check, fails when the committed file differs.
// Usage: npm run openapi | npm run openapi:check
import { readFile, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config/config.js'

const target = fileURLToPath(new URL('../openapi.yaml', import.meta.url))

async function generate (): Promise<string> {
  // The in-memory store and the example policy: the document depends on the routes alone.
  const app = await buildApp(loadConfig({ LOG_LEVEL: 'silent' }))
  try {
    return app.swagger({ yaml: true })
  } finally {
    await app.close()
  }
}

const fresh = await generate()
if (process.argv.includes('--check')) {
  const committed = await readFile(target, 'utf8').catch(() => null)
  if (committed !== fresh) {
    process.stderr.write(committed === null
      ? 'openapi.yaml is missing: run `npm run openapi` and commit it.\n'
      : 'openapi.yaml differs from the route schemas: run `npm run openapi` and commit the result.\n')
    process.exit(1)
  }
  process.stdout.write('openapi.yaml matches the route schemas.\n')
} else {
  await writeFile(target, fresh)
  process.stdout.write(`wrote ${target}\n`)
}
