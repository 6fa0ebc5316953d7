import type { Command } from 'commander'
import { ConfigError, type ServerConfig } from '../server/config.js'
import { createLogger } from '../server/logger.js'
import { startServer, type RunningServer } from '../server/start-server.js'
import { addConfigOptions, configOf } from './config-options.js'

/** Registers `timhook serve`: the App backend that records every callback. See docs/server.md. */
export function registerServe(program: Command): void {
  addConfigOptions(
    program
      .command('serve')
      .description('Run the App backend: verify, moderate, record and answer callbacks; admin API, /metrics, /healthz, /readyz'),
  ).action(async (opts: Record<string, unknown>) => {
    let config: ServerConfig
    let server: RunningServer
    try {
      config = configOf(opts, process.env)
      server = await startServer(config, { logger: createLogger(config.logLevel) })
    } catch (err) {
      // A configuration or rules-file mistake: say which field, exit 2, no stack trace.
      if (err instanceof ConfigError) {
        console.error(`timhook serve: ${err.message}`)
        process.exit(2)
      }
      throw err
    }
    const { logger } = server
    // Handlers before the banner: whoever starts us may signal as soon as it reads the banner.
    let signals = 0
    const stop = (signal: string) => {
      if (++signals > 1) {
        logger.warn({ signal }, 'second signal: exiting now')
        process.exit(1)
      }
      logger.info({ signal }, 'stopping')
      server.close().then(
        () => process.exit(0),
        (err: unknown) => {
          logger.error({ err: String(err) }, 'shutdown failed')
          process.exit(1)
        },
      )
    }
    process.on('SIGTERM', () => stop('SIGTERM'))
    process.on('SIGINT', () => stop('SIGINT'))
    logger.info(
      {
        url: server.url,
        storage: server.storage,
        callbackPaths: ['/', config.callbackPath].filter(Boolean),
        policy: config.policy ?? null,
        adminApi: config.adminToken !== undefined,
      },
      `timhook listening on ${server.url} (callbacks: POST ${server.url}/${config.callbackPath ? ` or ${config.callbackPath}` : ''}); storing in ${server.storage}`,
    )
  })
}
