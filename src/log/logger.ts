import { createRequire } from 'node:module'
import { destination as createDestination, pino, type Logger } from 'pino'

const REDACT = {
  paths: ['req.headers.authorization', 'headers.authorization', 'req.headers["x-user-token"]', 'headers["x-user-token"]'],
  censor: '[redacted]'
}
/** Buffered lines are written at least this often, so a quiet instance's log is never stale. */
const FLUSH_EVERY_MS = 250

export interface ServerLogger {
  log: Logger
  /** Writes out every buffered line; call before the process exits. */
  flush: () => void
}

export interface LogOutput {
  /** stdout is a terminal. */
  tty: boolean
  /** NODE_ENV=production. */
  production: boolean
  /** pino-pretty can be loaded (a dev dependency: absent from the production image). */
  prettyInstalled: boolean
}

/**
 * Pretty lines only for a developer at a terminal: never in production, where a terminal
 * (`docker run -t`) must not change what is written, nor how the process starts.
 */
export const wantsPretty = (out: LogOutput): boolean => out.tty && !out.production && out.prettyInstalled

function prettyInstalled (): boolean {
  try {
    createRequire(import.meta.url).resolve('pino-pretty')
    return true
  } catch {
    return false
  }
}

/**
 * JSON lines to stdout, buffered and written ~4 KB at a time: one line per decision would
 * otherwise cost one write system call per decision. Pretty-printed instead on a developer's
 * terminal (see wantsPretty).
 */
export function createServerLogger (level: string, production: boolean): ServerLogger {
  if (wantsPretty({ tty: process.stdout.isTTY === true, production, prettyInstalled: !production && prettyInstalled() })) {
    return { log: pino({ level, redact: REDACT, transport: { target: 'pino-pretty' } }), flush: () => {} }
  }
  const destination = createDestination({ dest: 1, sync: false, minLength: 4096 })
  const timer = setInterval(() => destination.flush(), FLUSH_EVERY_MS)
  timer.unref()
  return {
    log: pino({ level, redact: REDACT }, destination),
    flush: () => {
      try {
        destination.flushSync()
      } catch { /* nothing buffered or stdout gone: nothing more to write */ }
    }
  }
}
