// Lints openapi.yaml with Redocly's recommended rules (redocly.yaml) and fails on any error OR
// warning: `redocly lint` itself exits 0 on warnings. Usage: npm run openapi:lint
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'

const cli = createRequire(import.meta.url).resolve('@redocly/cli/bin/cli.js')
const run = spawnSync(process.execPath, [cli, 'lint', 'openapi.yaml', '--format=json'], { encoding: 'utf8' })
let report
try {
  report = JSON.parse(run.stdout)
} catch {
  process.stderr.write(`redocly lint did not answer with JSON (exit ${run.status}):\n${run.stdout}${run.stderr}`)
  process.exit(1)
}
for (const p of report.problems) {
  const where = p.location?.[0]?.pointer ?? ''
  process.stdout.write(`${p.severity} ${p.ruleId} ${where}: ${p.message}\n`)
}
const { errors, warnings } = report.totals
process.stdout.write(`openapi.yaml: ${errors} errors, ${warnings} warnings (Redocly ${report.version}, recommended rules)\n`)
process.exit(errors + warnings === 0 ? 0 : 1)
