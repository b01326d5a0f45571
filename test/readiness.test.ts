import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { FastifyInstance } from 'fastify'
import { appOnRedis } from './helpers/app.js'
import { eventually } from './helpers/metrics.js'
import { startRedisServer, type RedisServer } from './helpers/redis-server.js'

describe('liveness and readiness', () => {
  let redis: RedisServer
  let app: FastifyInstance
  beforeAll(async () => {
    redis = await startRedisServer()
    app = await appOnRedis(redis.url)
  })
  afterAll(async () => {
    await app.close()
    await redis.stop()
  })

  const status = async (url: string) => (await app.inject(url)).statusCode

  it('is ready while Redis answers, not ready while it is down, and ready again once it is back; alive throughout', async () => {
    const ready = await app.inject('/readyz')
    expect(ready.statusCode).toBe(200)
    expect(ready.json()).toEqual({ status: 'ready', store: 'redis', policyVersion: 1, governance: 'in_step' })

    await redis.stop()
    await eventually('readyz answers 503', async () => await status('/readyz') === 503)
    const down = await app.inject('/readyz')
    expect(down.json()).toEqual({ error: 'unavailable', message: 'store (redis) is not reachable' })
    expect(await status('/healthz')).toBe(200)

    await redis.start()
    await eventually('readyz answers 200 again', async () => await status('/readyz') === 200)
    expect(await status('/healthz')).toBe(200)
  })
})
