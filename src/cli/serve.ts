import { Option, type Command } from 'commander'
import { ConfigError, FLAGS, loadConfig, type FlagSpec, type ServerConfig } from '../server/config.js'
import { createLogger } from '../server/logger.js'
import { startServer, type RunningServer } from '../server/start-server.js'

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value]

/** What help says after a field's own text: its default (or that it is required) and its environment variable. */
function helpOf(f: FlagSpec): string {
  const given = f.required
    ? 'required'
    : f.default === undefined || f.default === false || Array.isArray(f.default)
      ? undefined
      : `default ${String(f.default)}`
  return `${f.help} (${given === undefined ? '' : `${given}; `}env ${f.env})`
}

/** The flag of a configuration field, from config.ts's list; no commander default, so the environment and the file still apply. */
export function optionOf(f: FlagSpec): Option {
  const names = `${f.short === undefined ? '' : `${f.short}, `}${f.flag}${f.switch ? '' : ` <${f.arg}>`}`
  const option = new Option(names, helpOf(f))
  return f.repeatable ? option.argParser(collect) : option
}

const PRECEDENCE = `
Every flag can also be set by its environment variable (TIMHOOK_…) or in the config file under its field name
(--sdk-app-id ↔ TIMHOOK_SDK_APP_ID ↔ sdkAppId). A flag beats the environment, the environment beats the file,
the file beats the defaults.`

/** Adds `-c, --config` and a flag per configuration field to `command`. */
export function addConfigOptions(command: Command): Command {
  command.option('-c, --config <file>', 'config file, YAML or JSON (env TIMHOOK_CONFIG)')
  for (const f of FLAGS) command.addOption(optionOf(f))
  return command.addHelpText('after', PRECEDENCE)
}

/** The configuration from parsed options (`--config` and the fields' flags) and the environment. */
export function configOf(opts: Record<string, unknown>, env: Record<string, string | undefined>): ServerConfig {
  const { config: file, ...flags } = opts
  return loadConfig({ flags, env, file: file as string | undefined })
}

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
