import type { FastifyInstance } from 'fastify'

export interface Sample { name: string, labels: Record<string, string>, value: number }

/** Parses the Prometheus text format into samples (enough for assertions; not a full parser). */
export function parseSamples (text: string): Sample[] {
  const samples: Sample[] = []
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (match === null) throw new Error(`unparsable metrics line: ${line}`)
    const labels: Record<string, string> = {}
    for (const [, k, v] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[k!] = v!
    samples.push({ name: match[1]!, labels, value: Number(match[3]) })
  }
  return samples
}

/** Scrapes the app's /metrics and returns a reader: the sum of the samples matching name and labels. */
export async function scrape (app: FastifyInstance): Promise<{ text: string, samples: Sample[], value: (name: string, labels?: Record<string, string>) => number }> {
  const res = await app.inject('/metrics')
  if (res.statusCode !== 200) throw new Error(`/metrics answered ${res.statusCode}`)
  const samples = parseSamples(res.body)
  const value = (name: string, labels: Record<string, string> = {}): number => samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0)
  return { text: res.body, samples, value }
}

/** Polls until check() returns true, with short real waits; throws with `what` after timeoutMs. */
export async function eventually (what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}
