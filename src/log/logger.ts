import { destination as createDestination, pino, type Logger } from 'pino'

const REDACT = { paths: ['req.headers.authorization', 'headers.authorization'], censor: '[redacted]' }
/** Buffered lines are written at least this often, so a quiet instance's log is never stale. */
const FLUSH_EVERY_MS = 250

export interface ServerLogger {
  log: Logger
  /** Writes out every buffered line; call before the process exits. */
  flush: () => void
}

/**
 * JSON lines to stdout. On a terminal they are pretty-printed; otherwise they are
 * buffered and written ~4 KB at a time: one line per decision would otherwise cost
 * one write system call per decision.
 */
export function createServerLogger (level: string): ServerLogger {
  if (process.stdout.isTTY) {
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
