import { spawn } from 'node:child_process'
import { describe, expect, inject, it } from 'vitest'
import { freePort } from './helpers/redis-server.js'

describe('the server entry', () => {
  it('starts on Redis, answers, and exits cleanly on SIGTERM', async () => {
    const port = await freePort()
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', REDIS_URL: inject('redisUrl'), LOG_LEVEL: 'info', NODE_ENV: 'development' },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let out = ''
    child.stdout.on('data', (d) => { out += String(d) })
    child.stderr.on('data', (d) => { out += String(d) })
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    try {
      const deadline = Date.now() + 15_000
      while (!out.includes('popguard is listening') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100))
      expect(out).toContain('popguard is listening')
      const res = await fetch(`http://127.0.0.1:${port}/v1/decide`, {
        method: 'POST',
        headers: { authorization: 'Bearer dev-client-key', 'content-type': 'application/json' },
        body: JSON.stringify({ userId: 'server-test-user', placement: 'home', candidates: [{ campaignId: 'fraud-warning' }] })
      })
      expect(res.status).toBe(200)
      expect((await res.json() as any).show).toEqual({ campaignId: 'fraud-warning' })
      child.kill('SIGTERM')
      expect(await exited).toBe(0)
      expect(out).toContain('"msg":"closed"')
      expect(out).not.toContain('server-test-user')
    } finally {
      child.kill('SIGKILL')
    }
  })
})
