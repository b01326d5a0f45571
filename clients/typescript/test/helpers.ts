import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface Seen { path: string, requestIdHeader: string | undefined, body: any }

/**
 * A tiny HTTP server in front of popguard: `handle` decides, per request, to forward it, answer
 * it itself, or hold it; every request it saw is kept in `seen`.
 */
export async function proxy (upstream: string, handle: (seen: Seen, n: number) => 'forward' | 'hang' | { status: number, body: unknown, headers?: Record<string, string> } | { delayMs: number }): Promise<{ url: string, seen: Seen[], close: () => Promise<void> }> {
  const seen: Seen[] = []
  const held: ServerResponse[] = []
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = ''
    req.on('data', (d: Buffer) => { raw += d.toString() })
    req.on('end', () => {
      const s: Seen = { path: req.url ?? '', requestIdHeader: req.headers['x-request-id'] as string | undefined, body: raw === '' ? null : JSON.parse(raw) }
      seen.push(s)
      const action = handle(s, seen.length)
      if (action === 'hang') { held.push(res); return }
      if (typeof action === 'object' && 'status' in action) {
        res.writeHead(action.status, { 'content-type': 'application/json', ...action.headers }).end(JSON.stringify(action.body))
        return
      }
      const headers: Record<string, string> = {}
      for (const h of ['authorization', 'content-type', 'x-user-token', 'x-request-id']) {
        const v = req.headers[h]
        if (typeof v === 'string') headers[h] = v
      }
      const forwarded = fetch(upstream + (req.url ?? ''), { method: req.method ?? 'GET', headers, ...(raw === '' ? {} : { body: raw }) })
      forwarded.then(async (up) => {
        const text = await up.text()
        if (typeof action === 'object') await new Promise((resolve) => setTimeout(resolve, action.delayMs))
        if (!res.destroyed) res.writeHead(up.status, { 'content-type': up.headers.get('content-type') ?? 'application/json' }).end(text)
      }, () => res.destroy())
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: async () => {
      for (const r of held) r.destroy()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}
