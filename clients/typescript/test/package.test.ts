// What a developer gets from `npm install`: the packed package installs offline (no runtime
// dependency), its named types check a consumer's code, and it runs in Node; its generated
// types are those of the committed openapi.yaml.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
// @ts-expect-error: a plain .mjs script, no declarations
import { generate } from '../scripts/generate.mjs'

const packageDir = fileURLToPath(new URL('..', import.meta.url))
const tsc = fileURLToPath(new URL('../../../node_modules/typescript/bin/tsc', import.meta.url))
const run = (file: string, args: string[], cwd: string): string => execFileSync(file, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })

const CONSUMER = `import { PopguardClient, type DecideResponse, type Decision, type EventType } from '@popguard/client'
const client = new PopguardClient({ baseUrl: 'http://127.0.0.1:9', apiKey: 'k', retries: 0 })
const decision: Decision = await client.decide({ userId: 'u', placement: 'home', candidates: ['spring-sale'] })
const answer: DecideResponse | undefined = decision.answer
const type: EventType = 'dismissed'
console.log(JSON.stringify({ reason: decision.reason, show: decision.show, answer: answer ?? null, type }))
await client.close()
`

describe('the @popguard/client package', () => {
  it('installs from its tarball without the registry, type-checks a consumer and runs in Node', () => {
    const dir = mkdtempSync(join(tmpdir(), 'popguard-client-'))
    const tarball = run('npm', ['pack', '--pack-destination', dir, '--silent'], packageDir).trim().split('\n').pop()!
    const app = join(dir, 'app')
    run('mkdir', [app], dir)
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', type: 'module', private: true }))
    run('npm', ['install', join(dir, tarball), '--offline', '--no-audit', '--no-fund', '--silent'], app)
    expect(JSON.parse(readFileSync(join(app, 'node_modules/@popguard/client/package.json'), 'utf8')).dependencies).toBeUndefined()
    writeFileSync(join(app, 'main.ts'), CONSUMER)
    run(process.execPath, [tsc, '--noEmit', '--strict', '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--lib', 'es2022,dom', '--skipLibCheck', 'false', 'main.ts'], app)
    writeFileSync(join(app, 'main.js'), CONSUMER.replace(', type DecideResponse, type Decision, type EventType', '').replace(/: (Decision|DecideResponse \| undefined|EventType)/g, ''))
    expect(JSON.parse(run(process.execPath, ['main.js'], app))).toEqual({ reason: 'network_error', show: null, answer: null, type: 'dismissed' })
  }, 120_000) // four processes (npm pack builds with tsc, npm install, tsc, node): 8 s on a quiet machine, far more on a loaded one

  it('has the types openapi.yaml generates today (run `npm run client:generate` when this fails)', async () => {
    expect(readFileSync(new URL('../src/generated/openapi.ts', import.meta.url), 'utf8')).toBe(await generate())
  })
})
