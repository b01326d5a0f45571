/**
 * The benchmark's ceiling: a bare Fastify route that parses the same JSON body as
 * POST /v1/decide and performs one Redis EVALSHA, nothing else. popguard's decide
 * throughput is reported as a fraction of this one, measured in the same run.
 *
 * Env: PORT, REDIS_URL (both required).
 */
import Fastify from 'fastify'
import { Redis } from 'ioredis'

interface Body { userId: string }
interface CountingClient { benchTouch (key: string, ttlMs: number): Promise<number> }

// A trivial per-user write with a TTL, so Redis does comparable work per request.
const TOUCH_LUA = `
local n = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return n`

const port = Number(process.env.PORT)
const redisUrl = process.env.REDIS_URL
if (!Number.isInteger(port) || port <= 0 || redisUrl === undefined) {
  process.stderr.write('bare-server: PORT and REDIS_URL are required\n')
  process.exit(78)
}

// The same client settings as popguard's decision path (src/redis/connection.ts).
const redis = new Redis(redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: 50, autoResendUnfulfilledCommands: false, enableAutoPipelining: false })
redis.defineCommand('benchTouch', { numberOfKeys: 1, lua: TOUCH_LUA })
const client = redis as unknown as CountingClient

const app = Fastify({ logger: false, bodyLimit: 64 * 1024 })
app.post<{ Body: Body }>('/v1/decide', async (request) => {
  const count = await client.benchTouch(`bench:{u:${request.body.userId}}`, 600_000)
  return { show: null, count }
})

const shutdown = (): void => {
  app.close().finally(() => {
    redis.disconnect()
    process.exit(0)
  })
}
process.on('SIGTERM', shutdown)
process.on('SIGINT', shutdown)

await new Promise<void>((resolve) => redis.once('ready', () => resolve()))
await app.listen({ port, host: '127.0.0.1' })
