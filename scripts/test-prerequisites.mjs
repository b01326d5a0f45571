// Runs before `npm test`: the suite needs real servers and tools, not mocks. On our machines
// (Debian, root) whatever is missing is installed from Debian's packages; elsewhere the exact
// command is printed and the run stops, so a missing tool never shows up as a confusing failure.
import { execFileSync, spawnSync } from 'node:child_process'

const NEEDED = [
  { command: 'redis-server', pkg: 'redis-server', why: 'the Redis the tests start (unless REDIS_URL is set)' },
  { command: 'redis-cli', pkg: 'redis-tools', why: 'creating the Redis Cluster of the cluster tests' },
  { command: 'promtool', pkg: 'prometheus', why: 'checking /metrics and the alert rules' },
  { command: 'prometheus', pkg: 'prometheus', why: 'evaluating the alert rules on a real server' },
  { command: 'chromium', pkg: 'chromium', why: 'the browser test of the report page' }
]

const has = (command) => spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0
const missing = NEEDED.filter((n) => !has(n.command))
if (missing.length === 0) process.exit(0)

const packages = [...new Set(missing.map((n) => n.pkg))]
for (const n of missing) console.error(`test prerequisites: ${n.command} is missing (${n.why})`)
const canInstall = process.getuid?.() === 0 && has('apt-get')
if (!canInstall) {
  console.error(`install them first: sudo apt-get update && sudo apt-get install -y --no-install-recommends ${packages.join(' ')}`)
  process.exit(1)
}
console.error(`installing from Debian's packages: ${packages.join(' ')}`)
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
execFileSync('apt-get', ['update'], { stdio: 'inherit', env })
execFileSync('apt-get', ['install', '-y', '--no-install-recommends', ...packages], { stdio: 'inherit', env })
