/**
 * The half-load generator in a process of its own: the benchmark's own heap (latencies of
 * a million requests, decision logs parsed between rounds) would otherwise pause the
 * generator in its garbage collections, and a paused generator sends its backlog in a burst.
 *
 * Args: one JSON object { url, headers, rate, seconds, warmupSeconds, maxSockets, workload }. The
 * warm-up (same rate, not measured) gets the connections open and the client's code compiled:
 * a cold client is late with its first requests and then sends them in a burst.
 * Writes the 2xx latencies (ms, float64, little-endian) to stdout's file given as the second
 * argument, and one JSON line { ok, failed, seconds, rps, measuredFrom (epoch ms) } to stdout.
 */
import { writeFileSync } from 'node:fs'
import { bodySource, pacedLoad, type LoadResult, type Workload } from './lib/load.js'

interface Args { url: string, headers: Record<string, string>, rate: number, seconds: number, warmupSeconds: number, maxSockets: number, workload: Workload }

const [json, latencyFile] = process.argv.slice(2)
if (json === undefined || latencyFile === undefined) {
  process.stderr.write('paced-client: usage: paced-client.ts <json args> <latency file>\n')
  process.exit(2)
}
const a = JSON.parse(json) as Args
const body = bodySource(a.workload)
const load = async (seconds: number): Promise<LoadResult> =>
  await pacedLoad({ url: a.url, headers: a.headers, rate: a.rate, seconds, maxSockets: a.maxSockets, body })
await load(a.warmupSeconds)
const measuredFrom = Date.now()
const r = await load(a.seconds)
writeFileSync(latencyFile, Buffer.from(r.latenciesMs.buffer, r.latenciesMs.byteOffset, r.latenciesMs.byteLength))
process.stdout.write(JSON.stringify({ ok: r.ok, failed: r.failed, seconds: r.seconds, rps: r.rps, measuredFrom }) + '\n')
