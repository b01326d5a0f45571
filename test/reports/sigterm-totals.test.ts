import { spawn, type ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, inject, it } from 'vitest'
import { campaign, policy, uniquePrefix } from '../helpers/app.js'
import { freePort } from '../helpers/redis-server.js'

const CAMPAIGN = `sigterm-${randomUUID().slice(0, 8)}`
const PREFIX = uniquePrefix()
const policyFile = join(mkdtempSync(join(tmpdir(), 'popguard-reports-')), 'policy.json')
writeFileSync(policyFile, JSON.stringify({ policy: policy(), campaigns: [campaign(CAMPAIGN)] }))

interface Server { child: ChildProcess, port: number, exited: Promise<number | null>, log: () => string }
const children: ChildProcess[] = []

async function startServer (): Promise<Server> {
  const port = await freePort()
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      REDIS_URL: inject('redisUrl'),
      POPGUARD_POLICY_FILE: policyFile,
      // Other tests' servers share this Redis: a prefix of our own keeps policies and report counts apart.
      POPGUARD_KEY_PREFIX: PREFIX,
      // Nothing flushes on a timer during the test: the counts reach Redis on shutdown or not at all.
      POPGUARD_REPORTS_FLUSH_MS: '300000',
      // Every decide must be counted: a loaded test machine's event loop must not shed one (503).
      POPGUARD_SHED_MAX_EVENT_LOOP_DELAY_MS: '0',
      POPGUARD_SHED_MAX_PER_TURN: '0',
      LOG_LEVEL: 'warn',
      NODE_ENV: 'development'
    },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  children.push(child)
  let log = ''
  child.stdout?.on('data', (d) => { log += String(d) })
  child.stderr?.on('data', (d) => { log += String(d) })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const deadline = Date.now() + 15_000
  while (Date.now() < deadline) {
    if (await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false)) return { child, port, exited, log: () => log }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error('the server did not start')
}

/** 'shown' or 'none' for an answer (a degraded decision shows nothing), null when no answer came. */
async function decide (port: number, i: number): Promise<'shown' | 'none' | null> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/v1/decide`, {
      method: 'POST',
      headers: { authorization: 'Bearer dev-client-key', 'content-type': 'application/json' },
      body: JSON.stringify({ userId: `sigterm-user-${i}`, placement: 'home', candidates: [{ campaignId: CAMPAIGN }] })
    })
    if (res.status !== 200) return null
    return (await res.json() as { show: unknown }).show === null ? 'none' : 'shown'
  } catch {
    return null
  }
}

/** Sends decisions from `workers` loops until `stop()` says so or the server stops answering; counts 200s. */
function traffic (port: number, workers: number) {
  let answered = 0
  let shown = 0
  let sent = 0
  const state = { stopped: false }
  const loops = Array.from({ length: workers }, async () => {
    while (!state.stopped) {
      const answer = await decide(port, sent++)
      if (answer === null) return
      answered++
      if (answer === 'shown') shown++
    }
  })
  return { answered: () => answered, shown: () => shown, stop: async () => { state.stopped = true; await Promise.all(loops) }, done: Promise.all(loops) }
}

async function campaignTotals (port: number): Promise<{ requested: number, allowed: number }> {
  const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10)
  const res = await fetch(`http://127.0.0.1:${port}/v1/reports/campaigns?from=${day(-1)}&to=${day(1)}`, { headers: { authorization: 'Bearer dev-reports-key' } })
  const body = await res.json() as { campaigns: { campaignId: string, requested: number, allowed: number }[] }
  const row = body.campaigns.find((c) => c.campaignId === CAMPAIGN)
  return { requested: row?.requested ?? 0, allowed: row?.allowed ?? 0 }
}

afterAll(() => { for (const c of children) c.kill('SIGKILL') })

describe('report totals across a SIGTERM', () => {
  it('equal the decisions that got answers, after a shutdown mid-traffic and a restart', async () => {
    const first = await startServer()
    const load = traffic(first.port, 8)
    while (load.answered() < 300) await new Promise((resolve) => setTimeout(resolve, 5))
    first.child.kill('SIGTERM')
    await load.done
    expect(await first.exited, first.log().split('\n').filter((l) => !l.includes('"decision"')).join('\n')).toBe(0)
    const answeredBefore = load.answered()
    const shownBefore = load.shown()
    expect(answeredBefore).toBeGreaterThanOrEqual(300)

    const second = await startServer()
    expect(await campaignTotals(second.port)).toEqual({ requested: answeredBefore, allowed: shownBefore })
    const more = traffic(second.port, 4)
    while (more.answered() < 50) await new Promise((resolve) => setTimeout(resolve, 5))
    await more.stop()
    // The report flushes the answering instance first, so its own fresh counts are in.
    expect(await campaignTotals(second.port)).toEqual({ requested: answeredBefore + more.answered(), allowed: shownBefore + more.shown() })
    second.child.kill('SIGTERM')
    expect(await second.exited).toBe(0)
  }, 60_000)
})
