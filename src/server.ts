import type { Logger } from 'pino'
import { buildApp, EXAMPLE_POLICY_FILE } from './app.js'
import { ConfigError, loadConfig, type AppConfig } from './config/config.js'
import { createServerLogger } from './log/logger.js'
import { PolicyFileError } from './config/policy-file.js'

function sayWhatRuns (log: Logger, config: AppConfig): void {
  if (config.redis === null) {
    log.warn('No REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS: using the IN-MEMORY store. State is lost on restart and NOT shared: run ONE instance only.')
  }
  if (config.devKeys) log.warn('POPGUARD_API_KEYS is not set: the development keys from the README are accepted.')
  if (config.policyFile === null) log.warn({ file: EXAMPLE_POLICY_FILE }, 'POPGUARD_POLICY_FILE is not set: using the example policy.')
  if (config.logKeyIsDefault) log.warn('POPGUARD_LOG_KEY is not set: log pseudonyms and user tags in store keys use a development key.')
}

async function main (): Promise<void> {
  let config: AppConfig
  try {
    config = loadConfig()
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`popguard: configuration error: ${err.message}\n`)
      process.exit(78)
    }
    throw err
  }
  const { log, flush } = createServerLogger(config.logLevel, config.production)
  const exit = (code: number): never => {
    flush()
    process.exit(code)
  }
  sayWhatRuns(log, config)

  let app: Awaited<ReturnType<typeof buildApp>>
  try {
    app = await buildApp(config, { logger: log })
  } catch (err) {
    if (err instanceof PolicyFileError) {
      log.fatal(err.message)
      exit(78)
    }
    throw err
  }

  let closing = false
  const shutdown = (signal: string): void => {
    if (closing) return
    closing = true
    log.info({ signal }, 'shutting down: no new connections, finishing requests in flight')
    const force = setTimeout(() => {
      log.error('shutdown took longer than 10 s: exiting')
      exit(1)
    }, 10_000)
    force.unref()
    // A keep-alive connection whose request was in flight at close() goes idle later and would
    // hold the server open until its keep-alive timeout: close such connections as they go idle.
    setInterval(() => app.server.closeIdleConnections(), 100).unref()
    app.close().then(() => {
      log.info('closed')
      exit(0)
    }, (err: unknown) => {
      log.error({ err }, 'error while closing')
      exit(1)
    })
  }
  process.on('SIGTERM', () => shutdown('SIGTERM'))
  process.on('SIGINT', () => shutdown('SIGINT'))

  await app.listen({ port: config.port, host: config.host })
  log.info({ store: app.store.kind, policyVersion: app.policy.current.version }, 'popguard is listening')
}

main().catch((err: unknown) => {
  process.stderr.write(`popguard: failed to start: ${(err as Error).stack ?? String(err)}\n`)
  process.exit(1)
})
