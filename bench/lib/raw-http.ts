/**
 * An open-loop HTTP/1.1 generator on raw keep-alive sockets, for overload benches: node's http
 * client spends several times the CPU of the request itself, so at a few thousand requests per
 * second on a small machine it, not the server, becomes what is measured. Here a request is one
 * `socket.write` of prepared bytes and an answer is a status line and a Content-Length read off
 * the bytes. One request per socket at a time (no pipelining, as a load balancer's pool); when
 * every socket of the pool is busy a request waits here, and that wait counts in its latency.
 */
import { connect, type Socket } from 'node:net'

export interface RawAnswer {
  status: number
  /** The answer's body (only when the caller asked for bodies). */
  body?: Buffer
}

/** 0 as status: the connection failed or closed before the answer. */
export type OnAnswer = (dueAt: number, answer: RawAnswer) => void

interface Pending { bytes: string, dueAt: number, onAnswer: OnAnswer }

const HEADER_END = Buffer.from('\r\n\r\n')
const CONTENT_LENGTH = /\r\ncontent-length:\s*(\d+)/i

class Connection {
  private readonly socket: Socket
  private buffered: Buffer = Buffer.alloc(0)
  private current: Pending | null = null

  constructor (host: string, port: number, private readonly pool: RawHttpPool) {
    this.socket = connect({ host, port, noDelay: true })
    this.socket.on('data', (chunk: Buffer) => { this.read(chunk) })
    this.socket.on('error', () => {})
    this.socket.on('close', () => { this.fail() })
  }

  /** Resolves once the TCP connection is up. */
  async connected (): Promise<void> {
    if (!this.socket.connecting) return
    await new Promise<void>((resolve, reject) => {
      this.socket.once('connect', resolve)
      this.socket.once('error', reject)
    })
  }

  send (p: Pending): void {
    this.current = p
    this.socket.write(p.bytes)
  }

  destroy (): void { this.socket.destroy() }

  private read (chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk])
    const headerEnd = this.buffered.indexOf(HEADER_END)
    if (headerEnd < 0) return
    const head = this.buffered.toString('latin1', 0, headerEnd)
    const length = Number(CONTENT_LENGTH.exec(head)?.[1] ?? NaN)
    if (Number.isNaN(length)) {
      this.socket.destroy()
      return
    }
    const end = headerEnd + 4 + length
    if (this.buffered.length < end) return
    const status = Number(head.slice(9, 12))
    const body = this.pool.wantBodies ? this.buffered.subarray(headerEnd + 4, end) : undefined
    this.buffered = this.buffered.subarray(end)
    const done = this.current
    this.current = null
    if (done !== null) done.onAnswer(done.dueAt, { status, body })
    this.pool.idle(this)
  }

  private fail (): void {
    const lost = this.current
    this.current = null
    this.pool.closed(this)
    if (lost !== null) lost.onAnswer(lost.dueAt, { status: 0 })
  }
}

export interface RawHttpPoolOptions {
  url: string
  headers: Record<string, string>
  maxSockets: number
  /** Hand each answer's body to the callback (costs a copy-free slice; off by default). */
  wantBodies?: boolean
}

/** A pool of keep-alive connections to one origin, POSTing JSON bodies. */
export class RawHttpPool {
  readonly wantBodies: boolean
  private readonly host: string
  private readonly port: number
  private readonly head: string
  private readonly free: Connection[] = []
  private readonly all = new Set<Connection>()
  private readonly waiting: Pending[] = []
  private waitingFrom = 0
  private stopped = false

  constructor (private readonly o: RawHttpPoolOptions) {
    const url = new URL(o.url)
    this.host = url.hostname
    this.port = Number(url.port)
    this.wantBodies = o.wantBodies ?? false
    const headers = Object.entries({ host: url.host, 'content-type': 'application/json', ...o.headers })
      .map(([k, v]) => `${k}: ${v}\r\n`).join('')
    this.head = `POST ${url.pathname}${url.search} HTTP/1.1\r\n${headers}`
  }

  /** Sends `body`, due at `dueAt` (performance.now() time); `onAnswer` gets the status, or 0 for a failed connection. */
  post (body: string, dueAt: number, onAnswer: OnAnswer): void {
    const p = { bytes: `${this.head}content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`, dueAt, onAnswer }
    const conn = this.free.pop() ?? (this.all.size < this.o.maxSockets ? this.open() : undefined)
    if (conn === undefined) this.waiting.push(p)
    else conn.send(p)
  }

  /** Opens every socket of the pool before the load starts, as a load balancer's warm pool. */
  async warm (): Promise<void> {
    const opened: Connection[] = []
    while (this.all.size < this.o.maxSockets) opened.push(this.open())
    await Promise.all(opened.map(async (c) => { await c.connected() }))
    this.free.push(...opened)
  }

  /** Requests waiting for a socket here, in the generator. */
  get queued (): number { return this.waiting.length - this.waitingFrom }

  idle (conn: Connection): void {
    if (this.stopped) return
    if (this.waitingFrom < this.waiting.length) {
      const next = this.waiting[this.waitingFrom++] as Pending
      if (this.waitingFrom > 4096 && this.waitingFrom * 2 > this.waiting.length) {
        this.waiting.splice(0, this.waitingFrom)
        this.waitingFrom = 0
      }
      conn.send(next)
    } else {
      this.free.push(conn)
    }
  }

  closed (conn: Connection): void {
    this.all.delete(conn)
    const k = this.free.indexOf(conn)
    if (k >= 0) this.free.splice(k, 1)
    // A request waiting here gets a new connection in place of the closed one.
    if (!this.stopped && this.queued > 0) this.idle(this.open())
  }

  close (): void {
    this.stopped = true
    for (const conn of this.all) conn.destroy()
  }

  private open (): Connection {
    const conn = new Connection(this.host, this.port, this)
    this.all.add(conn)
    return conn
  }
}

export interface ClosedRawResult { ok: number, failed: number, seconds: number }

/**
 * Closed loop on a raw pool: `connections` requests outstanding at all times (each answer sends
 * the next) for `seconds`; counts 2xx as ok and everything else (and failed connections) as failed.
 */
export async function closedRawLoad (o: { url: string, headers: Record<string, string>, connections: number, seconds: number, body: () => string }): Promise<ClosedRawResult> {
  const pool = new RawHttpPool({ url: o.url, headers: o.headers, maxSockets: o.connections })
  let ok = 0
  let failed = 0
  const started = performance.now()
  const until = started + o.seconds * 1000
  await new Promise<void>((resolve) => {
    let outstanding = 0
    const answered = (_dueAt: number, a: RawAnswer): void => {
      if (a.status >= 200 && a.status < 300) ok++
      else failed++
      outstanding--
      if (performance.now() < until) send()
      else if (outstanding === 0) resolve()
    }
    const send = (): void => {
      outstanding++
      pool.post(o.body(), performance.now(), answered)
    }
    for (let k = 0; k < o.connections; k++) send()
  })
  const seconds = (performance.now() - started) / 1000
  pool.close()
  return { ok, failed, seconds }
}
