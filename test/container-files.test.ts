// The image and compose stack cannot be built here (no Docker engine), so their files are
// checked as data: what they say must match the contract in DESIGN.md and the Dockerfile's own stages.
import { existsSync, readFileSync, statSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'

interface Instruction { keyword: string, args: string }

const root = new URL('../', import.meta.url)
const read = (path: string): string => readFileSync(new URL(path, root), 'utf8')

// The environment variables of DESIGN.md's "Configuration" section.
const configVariables = [
  'PORT', 'HOST', 'REDIS_URL', 'REDIS_CLUSTER_NODES', 'REDIS_SENTINELS', 'REDIS_SENTINEL_NAME', 'POPGUARD_POLICY_FILE',
  'POPGUARD_API_KEYS', 'POPGUARD_LOG_KEY', 'LOG_LEVEL', 'NODE_ENV'
]

function parseDockerfile (text: string): Instruction[][] {
  const lines = text.replace(/\\\r?\n/g, ' ').split(/\r?\n/)
  const stages: Instruction[][] = []
  for (const line of lines.map((l) => l.trim())) {
    if (line === '' || line.startsWith('#')) continue
    const [, keyword = '', args = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? []
    if (keyword.toUpperCase() === 'FROM') stages.push([])
    stages.at(-1)?.push({ keyword: keyword.toUpperCase(), args: args.trim() })
  }
  return stages
}

const argsOf = (stage: Instruction[], keyword: string): string[] =>
  stage.filter((i) => i.keyword === keyword).map((i) => i.args)

describe('Dockerfile', () => {
  const stages = parseDockerfile(read('Dockerfile'))
  const build = stages[0] ?? []
  const final = stages.at(-1) ?? []

  it('builds in one stage and runs in another, both on node 24 slim', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2)
    for (const stage of stages) expect(argsOf(stage, 'FROM')[0]).toMatch(/^node:24-slim(\s|$)/)
  })

  it('compiles with dev dependencies in the build stage', () => {
    const runs = argsOf(build, 'RUN').join('\n')
    expect(runs).toMatch(/\bnpm ci\b/)
    expect(runs).toMatch(/\bnpm run build\b/)
  })

  it('installs only production dependencies in the final stage', () => {
    expect(argsOf(final, 'RUN').join('\n')).toMatch(/\bnpm ci --omit=dev\b/)
    expect(argsOf(final, 'ENV').join('\n')).toMatch(/\bNODE_ENV=production\b/)
  })

  it('ships the compiled code and the example policy', () => {
    const copies = argsOf(final, 'COPY')
    expect(copies.some((c) => /^--from=\S+\s+\S*dist\/?\s/.test(c))).toBe(true)
    expect(copies.some((c) => /^examples\/?\s/.test(c))).toBe(true)
  })

  it('runs as a user that is not root', () => {
    const user = argsOf(final, 'USER').at(-1)
    expect(user).toBeDefined()
    expect(user).not.toMatch(/^(root|0)(:|$)/)
  })

  it('exposes 3000 and checks /healthz with node itself', () => {
    expect(argsOf(final, 'EXPOSE')).toContain('3000')
    const healthcheck = argsOf(final, 'HEALTHCHECK').join('\n')
    expect(healthcheck).toMatch(/CMD \["node",/)
    expect(healthcheck).toContain('/healthz')
  })

  it('turns the POPGUARD_COMMIT build argument into the variable popguard_build_info reads', () => {
    expect(argsOf(final, 'ARG')).toContain('POPGUARD_COMMIT=unknown')
    // Shell-style references, not JS templates.
    expect(argsOf(final, 'ENV')).toContain('POPGUARD_COMMIT=$' + '{POPGUARD_COMMIT}')
    const compose = parse(read('docker-compose.yml'))
    expect(compose.services.popguard.build.args).toEqual({ POPGUARD_COMMIT: '$' + '{POPGUARD_COMMIT:-unknown}' })
  })

  it('starts the server with node, not npm, so signals reach it', () => {
    const cmd = JSON.parse(argsOf(final, 'CMD').at(-1) ?? 'null')
    expect(cmd).toEqual(['node', 'dist/src/server.js'])
  })
})

describe('docker-compose.yml', () => {
  const compose = parse(read('docker-compose.yml'))
  const { redis, popguard } = compose.services

  it('runs Redis 7 and reports it healthy only when it answers PING', () => {
    expect(redis.image).toBe('redis:7-alpine')
    expect(redis.healthcheck.test.join(' ')).toMatch(/redis-cli.*\bping\b/)
  })

  it('persists Redis with an append-only file synced every second, on a named volume', () => {
    const args = redis.command.join(' ')
    expect(args).toMatch(/--appendonly yes\b/)
    expect(args).toMatch(/--appendfsync everysec\b/)
    expect(redis.volumes).toContain('redis-data:/data')
    expect(compose.volumes).toHaveProperty('redis-data')
  })

  it('builds popguard from this repo and starts it after Redis is healthy', () => {
    expect(popguard.build.context).toBe('.')
    expect(popguard.depends_on.redis.condition).toBe('service_healthy')
    expect(popguard.ports).toContain('3000:3000')
  })

  it('health-checks popguard on /healthz', () => {
    expect(popguard.healthcheck.test.join(' ')).toContain('/healthz')
  })

  it('sets only configuration variables that DESIGN.md defines', () => {
    const env = popguard.environment
    for (const name of Object.keys(env)) expect(configVariables).toContain(name)
    for (const name of ['PORT', 'LOG_LEVEL', 'POPGUARD_API_KEYS', 'POPGUARD_LOG_KEY']) {
      expect(env).toHaveProperty(name)
    }
    expect(env).toMatchObject({
      HOST: '0.0.0.0',
      REDIS_URL: 'redis://redis:6379',
      POPGUARD_POLICY_FILE: '/app/examples/policy.json',
      NODE_ENV: 'production'
    })
  })

  it('points the policy file at the examples the image ships', () => {
    const workdir = argsOf(parseDockerfile(read('Dockerfile')).at(-1) ?? [], 'WORKDIR').at(-1)
    expect(popguard.environment.POPGUARD_POLICY_FILE).toBe(`${workdir}/examples/policy.json`)
  })

  it('runs Prometheus and Grafana from their official images, mounting files and folders of this repo', () => {
    const { prometheus, grafana } = compose.services
    expect(prometheus.image).toMatch(/^prom\/prometheus:/)
    expect(grafana.image).toMatch(/^grafana\/grafana:/)
    for (const volume of [...prometheus.volumes, ...grafana.volumes] as string[]) {
      const [source = '', target = ''] = volume.split(':')
      expect(source, volume).toMatch(/^\.\//)
      expect(existsSync(new URL(source, root)), `${source} exists`).toBe(true)
      // A file mounted onto a directory path (or the reverse) fails at start, not here: keep the kinds paired.
      expect(statSync(new URL(source, root)).isDirectory(), volume).toBe(!/\.\w+$/.test(target))
    }
  })

  it('has Prometheus load its rules beside its config and scrape the popguard service', () => {
    const { prometheus } = compose.services
    const mounts = Object.fromEntries((prometheus.volumes as string[]).map((v) => v.split(':').slice(0, 2).reverse()))
    const config = parse(read(mounts['/etc/prometheus/prometheus.yml']))
    for (const file of config.rule_files) expect(mounts).toHaveProperty(`/etc/prometheus/${file}`)
    const job = config.scrape_configs.find((c: { job_name: string }) => c.job_name === 'popguard')
    const port = popguard.environment.PORT
    expect(job.static_configs[0].targets).toEqual([`popguard:${port}`])
  })

  it('lets anyone view Grafana read-only, and takes the admin password from the environment', () => {
    const env = compose.services.grafana.environment
    expect(env).toMatchObject({ GF_AUTH_ANONYMOUS_ENABLED: 'true', GF_AUTH_ANONYMOUS_ORG_ROLE: 'Viewer' })
    expect(env.GF_SECURITY_ADMIN_PASSWORD).toMatch(/^\$\{GRAFANA_ADMIN_PASSWORD:\?/)
  })
})

describe('.dockerignore', () => {
  const ignored = read('.dockerignore').split('\n').map((l) => l.trim())

  it('keeps dependencies, build output and secrets out of the build context', () => {
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'dist', '.env', '.git']))
  })

  it('keeps what the image needs', () => {
    for (const needed of ['src', 'scripts', 'examples', 'package.json', 'package-lock.json']) {
      expect(ignored).not.toContain(needed)
    }
  })
})
