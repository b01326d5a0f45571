/**
 * POST /v1/policy/simulate: a candidate policy replayed against decisions this instance can read,
 * an upload or the configured log file's last hours (docs/simulator.md). Bounded: at most
 * `maxUsers` distinct users held and `timeoutMs` spent (the answer then says it was cut short), and
 * the event loop is yielded every few thousand lines so decisions keep being served meanwhile.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises'
import { UnavailableError } from '../../errors.js'
import { UnprocessableError, ValidationError } from '../../rules/errors.js'
import { compileCandidate } from '../../simulate/candidate.js'
import { LineError } from '../../simulate/log-line.js'
import { fileLines } from '../../simulate/read.js'
import { Simulator, type SimulationResult } from '../../simulate/simulate.js'

const HOUR_MS = 3_600_000
/** Lines between two looks at the clock and the user count, and between two yields to the event loop. */
const CHECK_EVERY = 2048
/** Malformed lines skipped before the replay gives up (422). */
const MAX_BAD_LINES = 1000

export interface SimulateInput {
  candidate: unknown
  /** NDJSON decision log lines; absent: the configured log file. */
  logs?: string
  /** Only decisions of the last `hours` (by the log's own times) are replayed. */
  hours?: number
}

export interface SimulateAnswer extends SimulationResult {
  source: 'upload' | 'file'
  /** Lines at or after this instant were replayed (ISO), or null for all. */
  from: string | null
  /** Why the replay stopped before the end of its input, or null. */
  truncated: null | 'time' | 'users'
}

export interface SimulateServiceOptions {
  clock: () => number
  logFile: string | null
  maxUsers: number
  timeoutMs: number
}

export class SimulateService {
  constructor (private readonly opts: SimulateServiceOptions) {}

  async run (input: SimulateInput): Promise<SimulateAnswer> {
    const { policy, errors } = compileCandidate(input.candidate)
    if (errors !== undefined) {
      throw new UnprocessableError(`candidate policy: ${errors[0]?.path ?? '/'}: ${errors[0]?.message ?? 'invalid'}`, errors.map((e) => ({ path: '/candidate' + e.path, message: e.message })))
    }
    const from = input.hours === undefined ? null : this.opts.clock() - input.hours * HOUR_MS
    const sim = new Simulator(policy, { maxBadLines: MAX_BAD_LINES, from: from ?? undefined })
    const source = input.logs !== undefined ? 'upload' : 'file'
    const lines = input.logs !== undefined ? uploadLines(input.logs) : await this.fileLines()
    const deadline = performance.now() + this.opts.timeoutMs
    let truncated: SimulateAnswer['truncated'] = null
    let n = 0
    try {
      for await (const line of lines) {
        sim.line(line, ++n)
        if (n % CHECK_EVERY === 0) {
          if (performance.now() > deadline) { truncated = 'time'; break }
          if (sim.userCount > this.opts.maxUsers) { truncated = 'users'; break }
          await yieldToLoop()
        }
      }
    } catch (err) {
      if (err instanceof LineError) throw new UnprocessableError(`logs: ${err.message}`, [{ path: '/logs', message: err.message }])
      throw err
    }
    return { ...sim.result(), source, from: from === null ? null : new Date(from).toISOString(), truncated }
  }

  private async fileLines (): Promise<AsyncIterable<string>> {
    if (this.opts.logFile === null) {
      throw new ValidationError('no `logs` given, and this instance has no decision log to read (POPGUARD_SIMULATE_LOG_FILE)', [{ path: '/logs', message: 'required: no log file is configured' }])
    }
    try {
      return (await fileLines(this.opts.logFile)).lines
    } catch {
      // The operator's configuration, not the client's fault; the path is not the client's business.
      throw new UnavailableError('the configured decision log (POPGUARD_SIMULATE_LOG_FILE) cannot be read')
    }
  }
}

/** The upload's lines, without copying it whole into an array. */
function * uploadLines (text: string): Generator<string> {
  let start = 0
  while (start < text.length) {
    let end = text.indexOf('\n', start)
    if (end < 0) end = text.length
    yield text.charCodeAt(end - 1) === 13 ? text.slice(start, end - 1) : text.slice(start, end)
    start = end + 1
  }
}
