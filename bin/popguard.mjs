#!/usr/bin/env node
// `npx popguard simulate ...`: runs the built CLI (dist/, after `npm run build`) when there is one,
// else the TypeScript source through tsx (a dev dependency, there after `npm ci`).
import { existsSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const built = `${root}dist/src/cli/main.js`
let entry = built
if (!existsSync(built)) {
  const { register } = await import('tsx/esm/api')
  register()
  entry = `${root}src/cli/main.ts`
}
const { main } = await import(pathToFileURL(entry).href)
process.exitCode = await main(process.argv.slice(2))
