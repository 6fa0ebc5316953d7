/**
 * Command-line flags from the configuration's one list of fields (src/server/config.ts): `timhook
 * serve` takes them all, `timhook sinks` the database ones. No flag has a commander default, so the
 * environment and the config file still apply beneath it.
 */
import { Option, type Command } from 'commander'
import { type ConfigField, FLAGS, loadConfig, type FlagSpec, type ServerConfig } from '../server/config.js'

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

/** The flag of a configuration field. */
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

/** The flag spec of one field. */
export function flagFor(field: ConfigField): FlagSpec {
  return FLAGS.find((f) => f.field === field)!
}
