/**
 * The simulator's I/O: a log file or an upload as lines (gzip recognised by its magic bytes), a
 * candidate policy file, and a progress line on stderr. The replay itself (simulate.ts) is pure.
 */
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import { Readable } from 'node:stream'
import { createGunzip } from 'node:zlib'
import { PolicyFileError, readPolicyDocument } from '../config/policy-file.js'
import type { CompiledPolicy } from '../rules/policy/compile.js'
import { compileCandidate } from './candidate.js'

/** The candidate of a `{policy, campaigns, penalties?}` file (JSON or YAML), validated whole (PolicyFileError). */
export async function loadCandidatePolicy (file: string): Promise<CompiledPolicy> {
  const value = await readPolicyDocument(file)
  const { policy, errors } = compileCandidate(value)
  if (errors !== undefined) throw new PolicyFileError(file, errors.map((e) => `${e.path}: ${e.message}`))
  return policy
}

const isGzip = (head: Buffer): boolean => head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b

/** A stream of bytes, gunzipped when it starts with gzip's magic bytes. */
async function * maybeGunzip (source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const iterator = source[Symbol.asyncIterator]()
  const first = await iterator.next()
  if (first.done === true) return
  const rest = (async function * () {
    yield first.value
    for (let r = await iterator.next(); r.done !== true; r = await iterator.next()) yield r.value
  })()
  if (!isGzip(first.value)) {
    yield * rest
    return
  }
  yield * Readable.from(rest).pipe(createGunzip())
}

/** The lines of a byte stream (plain or gzip), without their line ends. */
export function linesOf (source: AsyncIterable<Buffer>): AsyncIterable<string> {
  return createInterface({ input: Readable.from(maybeGunzip(source)), crlfDelay: Infinity })
}

export interface FileProgress {
  /** Bytes of the file read so far (compressed bytes for a gzip file). */
  bytesRead: () => number
  size: number
}

/** A log file's lines, and how far through the file the reading is. */
export async function fileLines (file: string): Promise<{ lines: AsyncIterable<string>, progress: FileProgress }> {
  const size = (await stat(file)).size
  const stream = createReadStream(file, { highWaterMark: 1 << 20 })
  return { lines: linesOf(stream), progress: { bytesRead: () => stream.bytesRead, size } }
}

/** A progress line on stderr: lines, lines/s, share of the file read, ETA. Redrawn in place on a terminal. */
export class ProgressLine {
  private readonly started = performance.now()
  private last = 0
  constructor (private readonly progress: FileProgress, private readonly out: NodeJS.WriteStream = process.stderr,
    private readonly everyMs = out.isTTY === true ? 200 : 5000) {}

  tick (lines: number): void {
    const now = performance.now()
    if (now - this.last < this.everyMs) return
    this.last = now
    this.write(lines, false)
  }

  done (lines: number): void {
    this.write(lines, true)
  }

  private write (lines: number, done: boolean): void {
    const seconds = (performance.now() - this.started) / 1000
    const rate = seconds > 0 ? lines / seconds : 0
    const share = this.progress.size > 0 ? Math.min(1, this.progress.bytesRead() / this.progress.size) : 1
    const eta = share > 0 && !done ? seconds * (1 - share) / share : 0
    const width = 24
    const bar = '#'.repeat(Math.round(share * width)).padEnd(width, '.')
    const text = `[${bar}] ${(share * 100).toFixed(0).padStart(3)}%  ${lines.toLocaleString('en-US')} lines  ` +
      `${Math.round(rate).toLocaleString('en-US')} lines/s  ${done ? `done in ${seconds.toFixed(1)} s` : `ETA ${eta.toFixed(0)} s`}`
    if (this.out.isTTY === true) this.out.write(`\r${text}${done ? '\n' : ''}`)
    else this.out.write(text + '\n')
  }
}
