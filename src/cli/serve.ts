import type { Command } from 'commander'
import { ConfigError, loadConfig, type ServerConfig } from '../server/config.js'
import { createLogger } from '../server/logger.js'
import { startServer, type RunningServer } from '../server/start-server.js'

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value]

/** Registers `timhook serve`: the App backend that records every callback. See docs/server.md. */
export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('Run the App backend: verify, moderate, record and answer callbacks; admin API, /metrics, /healthz, /readyz')
    .option('-c, --config <file>', 'config file, YAML or JSON (also TIMHOOK_CONFIG)')
    .option('-p, --port <port>', 'port to listen on (default 8080)')
    .option('--host <host>', 'address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)')
    .option('--sdk-app-id <id>', 'SDKAppID accepted; repeat or comma-separate for several (required)', collect)
    .option('--token <token>', 'callback authentication token; repeat or comma-separate during rotation', collect)
    .option('--db <path-or-url>', 'SQLite file (default ./timhook.db) or a postgres:// URL')
    .option('--pg-schema <name>', 'PostgreSQL schema for timhook tables (default public)')
    .option('--pg-pool-size <n>', 'PostgreSQL connections (default 10)')
    .option('--admin-token <token>', 'bearer token of the admin API (at least 16 characters); without it /api answers 401')
    .option('--policy <file>', 'moderation rules file (YAML or JSON), reloaded on change and on SIGHUP')
    .option('--callback-path <path>', 'also accept callbacks at this path (POST / always works)')
    .option('--max-skew-seconds <s>', 'largest accepted |now - RequestTime| (default 60)')
    .option('--body-limit <bytes>', 'largest accepted body (default 1048576)')
    .option('--deadline-ms <ms>', 'before-send decision budget, < 2000 (default 1500)')
    .option('--strict', 'reject bodies that do not match their command schema (400)')
    .option('--log-level <level>', 'trace, debug, info, warn, error, fatal or silent (default info)')
    .option('--max-batch <n>', 'most records per commit (default 1000)')
    .option('--max-pending-records <n>', 'most records waiting for the store; past it after-callbacks get FAIL at once (default 2000)')
    .option('--max-pending-bytes <bytes>', 'most bytes of callback bodies waiting for the store (default 16777216)')
    .option('--pg-commits-in-flight <n>', 'PostgreSQL commits run at once, each on its own connection (default 4)')
    .option('--admin-read-timeout-ms <ms>', 'time budget of one admin read; past it 503 STORE_TIMEOUT (default 5000)')
    .option('--max-admin-reads <n>', 'SQLite: admin reads running or waiting at once; past it 503 TOO_MANY_READS (default 4)')
    .option('--shutdown-timeout-ms <ms>', 'how long shutdown waits for in-flight requests (default 10000)')
    .option('--tls-cert <file>', 'serve HTTPS with this PEM certificate (chain); reloaded on SIGHUP; needs --tls-key')
    .option('--tls-key <file>', 'the PEM private key of --tls-cert; reloaded on SIGHUP')
    .option('--headers-timeout-ms <ms>', "most time for a request's headers to arrive (default 10000)")
    .option('--request-timeout-ms <ms>', 'most time for a whole request to arrive (default 10000)')
    .option('--keep-alive-timeout-ms <ms>', 'how long an idle keep-alive connection stays open (default 65000)')
    .option(
      '--metrics-port <port>',
      'serve /metrics on this port instead, without a token (default: on the main port, behind the admin token)',
    )
    .option('--metrics-host <host>', 'address of the metrics port (default 127.0.0.1)')
    .option('--max-connections <n>', 'most open connections; past it new ones are closed at once (default 10000)')
    .action(async (opts: Record<string, unknown>) => {
      const { config: file, ...flags } = opts
      let config: ServerConfig
      let server: RunningServer
      try {
        config = loadConfig({ flags, env: process.env, file: file as string | undefined })
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
