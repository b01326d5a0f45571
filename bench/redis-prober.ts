/**
 * Redis's responsiveness seen from an idle client, in a process of its own: one PING at a
 * time for the given seconds, each timed from send to reply. Beside a load on popguard it shows
 * what Redis alone adds to a store call (its queue and its share of the CPU), apart from the
 * delay popguard's own busy event loop adds to reading a reply.
 *
 * Args: <redis url> <seconds>. Prints one JSON line { count, p50, p99, p999, max } (ms).
 */
import { Redis } from 'ioredis'
import { percentiles } from './lib/stats.js'

const [url, secondsText] = process.argv.slice(2)
if (url === undefined || secondsText === undefined) {
  process.stderr.write('redis-prober: usage: redis-prober.ts <redis url> <seconds>\n')
  process.exit(2)
}
const redis = new Redis(url)
const rtts: number[] = []
const until = performance.now() + Number(secondsText) * 1000
while (performance.now() < until) {
  const sent = performance.now()
  await redis.ping()
  rtts.push(performance.now() - sent)
  await new Promise((resolve) => setTimeout(resolve, 1))
}
redis.disconnect()
const p = percentiles(Float64Array.from(rtts))
process.stdout.write(JSON.stringify({ count: p.count, p50: p.p50, p99: p.p99, p999: p.p999, max: Math.max(...rtts) }) + '\n')
