// The example shop's backend: serves the page, the SDK build and a token endpoint that signs
// short-lived end-user tokens (HS256) for the signed-in user. No CDN, nothing fetched from outside.
// Run: see docs/clients.md ("Try it in a browser").
import { readFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { extname, join, normalize } from 'node:path'
import { fileURLToPath } from 'node:url'
import { SignJWT } from 'jose'

export interface ExampleOptions {
  /** Where the browser reaches popguard (another origin: CORS). */
  popguardUrl: () => string
  /** The public API key configured for end-user tokens. */
  apiKey: string
  /** The HS256 secret, issuer and audience POPGUARD_END_USER_TOKENS names for that key. */
  secret: string
  issuer: string
  audience: string
  /** The built SDK (clients/typescript/dist by default). */
  sdkDir?: string
  port?: number
}

const PAGE_DIR = fileURLToPath(new URL('.', import.meta.url))
const DEFAULT_SDK_DIR = fileURLToPath(new URL('../../clients/typescript/dist', import.meta.url))
const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.map': 'application/json' }
const TOKEN_LIFETIME_S = 300

/** Resolves `path` inside `dir`, or null when it would leave it. */
function inside (dir: string, path: string): string | null {
  const full = normalize(join(dir, path))
  return full.startsWith(dir) ? full : null
}

export async function startExampleServer (o: ExampleOptions): Promise<{ url: string, server: Server }> {
  const sdkDir = o.sdkDir ?? DEFAULT_SDK_DIR
  const key = new TextEncoder().encode(o.secret)
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://example')
    const csp = `default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self' ${new URL(o.popguardUrl()).origin}; base-uri 'none'; frame-ancestors 'none'`
    const send = (status: number, type: string, body: string | Buffer): void => {
      res.writeHead(status, { 'content-type': type, 'content-security-policy': csp, 'cache-control': 'no-store' }).end(body)
    }
    if (url.pathname === '/config.json') { send(200, TYPES['.map']!, JSON.stringify({ popguardUrl: o.popguardUrl(), apiKey: o.apiKey })); return }
    if (url.pathname === '/token' && req.method === 'POST') {
      let raw = ''
      req.on('data', (d: Buffer) => { raw += d.toString() })
      req.on('end', () => {
        // A real backend signs for the user of its session; the example trusts the page.
        const user = String((JSON.parse(raw || '{}') as { user?: unknown }).user ?? '')
        if (user === '' || user.length > 256) { send(400, TYPES['.map']!, '{"error":"bad user"}'); return }
        const now = Math.floor(Date.now() / 1000)
        new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(user).setIssuer(o.issuer).setAudience(o.audience)
          .setIssuedAt(now).setExpirationTime(now + TOKEN_LIFETIME_S).sign(key)
          .then((token) => send(200, TYPES['.map']!, JSON.stringify({ token, expiresAt: (now + TOKEN_LIFETIME_S) * 1000 })), () => send(500, 'text/plain', 'sign failed'))
      })
      return
    }
    const file = url.pathname === '/'
      ? join(PAGE_DIR, 'index.html')
      : url.pathname.startsWith('/sdk/')
        ? inside(sdkDir, url.pathname.slice(5))
        : ['/app.js', '/style.css'].includes(url.pathname) ? join(PAGE_DIR, url.pathname) : null
    if (file === null) { send(404, 'text/plain', 'not found'); return }
    readFile(file).then((body) => send(200, TYPES[extname(file)] ?? 'application/octet-stream', body), () => send(404, 'text/plain', 'not found'))
  })
  await new Promise<void>((resolve) => server.listen(o.port ?? 0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const env = process.env
  const { url } = await startExampleServer({
    popguardUrl: () => env.POPGUARD_URL ?? 'http://127.0.0.1:3000',
    apiKey: env.EXAMPLE_API_KEY ?? 'example-device-key',
    secret: env.EXAMPLE_TOKEN_SECRET ?? 'example-shop-token-secret-32-characters',
    issuer: env.EXAMPLE_TOKEN_ISSUER ?? 'http://127.0.0.1:8080',
    audience: 'popguard',
    port: Number(env.EXAMPLE_PORT ?? 8080)
  })
  process.stdout.write(`example shop on ${url}/?user=alice (popguard at ${env.POPGUARD_URL ?? 'http://127.0.0.1:3000'})\n`)
}
