import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import type {} from 'vitest'
import type { TestProject } from 'vitest/node'
import { startRedisServer } from './helpers/redis-server.js'

declare module 'vitest' {
  export interface ProvidedContext { redisUrl: string }
}

function hasRedisServerBinary (): boolean {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/** A Docker engine answers: a socket or DOCKER_HOST is there (the client alone is not enough). */
function dockerEngineLikely (): boolean {
  return process.env.DOCKER_HOST !== undefined || existsSync('/var/run/docker.sock')
}

async function tryTestcontainers (): Promise<{ url: string, stop: () => Promise<unknown> } | null> {
  if (!dockerEngineLikely()) return null
  try {
    const { GenericContainer } = await import('testcontainers')
    const container = await new GenericContainer('redis:7-alpine').withExposedPorts(6379).start()
    return { url: `redis://${container.getHost()}:${container.getMappedPort(6379)}`, stop: () => container.stop() }
  } catch {
    return null
  }
}

/**
 * Finds the Redis the tests use, in this order: REDIS_URL; a Docker engine through
 * testcontainers; a `redis-server` from the PATH on a free port in a temporary folder.
 */
export default async function setup (project: TestProject): Promise<() => Promise<void>> {
  if (process.env.REDIS_URL !== undefined && process.env.REDIS_URL !== '') {
    project.provide('redisUrl', process.env.REDIS_URL)
    return async () => {}
  }
  const container = await tryTestcontainers()
  if (container !== null) {
    project.provide('redisUrl', container.url)
    return async () => { await container.stop() }
  }
  if (!hasRedisServerBinary()) {
    throw new Error('The tests need a real Redis and found none: set REDIS_URL, start a Docker engine, ' +
      'or install redis-server (Debian: apt-get install -y redis-server).')
  }
  const server = await startRedisServer()
  project.provide('redisUrl', server.url)
  return async () => { await server.stop() }
}
