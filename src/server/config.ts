/**
 * The configuration of `timhook serve`, from (lowest to highest precedence) defaults, a config
 * file (YAML or JSON), `TIMHOOK_*` environment variables and command-line flags. Validated once,
 * at start; an error names the field and where its value came from.
 */
import { readFileSync } from 'node:fs'
import { parse as parseYaml } from 'yaml'
import { z } from 'zod'
import { sinksSchema } from '../sinks/config.js'

const splitList = (v: unknown) => {
  if (typeof v === 'string')
    return v
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '')
  if (typeof v === 'number') return [String(v)]
  if (Array.isArray(v))
    return v.flatMap((x) =>
      typeof x === 'string'
        ? x
            .split(',')
            .map((s) => s.trim())
            .filter((s) => s !== '')
        : typeof x === 'number'
          ? [String(x)]
          : [x],
    )
  return v
}
const toNumber = (v: unknown) => (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : v)
const toBoolean = (v: unknown) => (v === 'true' || v === '1' ? true : v === 'false' || v === '0' ? false : v)
const jsonText = (v: unknown, ctx: { addIssue(issue: { code: 'custom'; message: string }): void }) => {
  if (typeof v !== 'string') return v
  try {
    return JSON.parse(v) as unknown
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `not valid JSON: ${(err as Error).message}` })
    return z.NEVER
  }
}
const int = (min: number, max: number) => z.preprocess(toNumber, z.number().int().min(min).max(max))

/**
 * One field of the configuration: its schema (type, bounds, default) and what `timhook serve --help`
 * says of it. Its flag and environment names come from its name (`flagOf`, `envOf`); a boolean is a
 * switch (`--strict`), a list of strings a repeatable flag.
 */
interface FieldSpec<S extends z.ZodType = z.ZodType> {
  schema: S
  /** The flag's value as help shows it: `--port <port>`; unused by a switch. */
  arg?: string
  /** A one-letter alias: `-p`. */
  short?: string
  help: string
}

const field = <S extends z.ZodType>(schema: S, spec: Omit<FieldSpec<S>, 'schema'>): FieldSpec<S> => ({ schema, ...spec })

/** Every field, in the order help and error messages list them: the one list of `timhook serve`'s settings. */
export const CONFIG = {
  port: field(int(0, 65535).default(8080), { arg: 'port', short: 'p', help: 'port to listen on; 0 picks a free one' }),
  host: field(z.string().min(1).default('127.0.0.1'), { arg: 'host', help: 'address to listen on; 0.0.0.0 for every interface' }),
  sdkAppId: field(
    z.preprocess(splitList, z.array(z.string().regex(/^\d+$/, 'expected a numeric SDKAppID')).min(1, 'at least one SDKAppID is required')),
    { arg: 'id', help: 'SDKAppID accepted; repeat or comma-separate for several' },
  ),
  token: field(z.preprocess(splitList, z.array(z.string().min(1).max(128)).min(1)).optional(), {
    arg: 'token',
    help: 'callback authentication token; repeat or comma-separate during rotation',
  }),
  db: field(z.string().min(1).default('./timhook.db'), { arg: 'path-or-url', help: 'SQLite file or a postgres:// URL' }),
  pgSchema: field(
    z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'lower-case letters, digits and _')
      .default('public'),
    { arg: 'name', help: 'PostgreSQL schema for timhook tables' },
  ),
  pgPoolSize: field(int(1, 1000).default(10), { arg: 'n', help: 'PostgreSQL connections' }),
  adminToken: field(z.string().min(16, 'use at least 16 characters').optional(), {
    arg: 'token',
    help: 'bearer token of the admin API (at least 16 characters); without it /api answers 401',
  }),
  policy: field(z.string().min(1).optional(), {
    arg: 'file',
    help: 'moderation rules file (YAML or JSON), reloaded on change and on SIGHUP',
  }),
  callbackPath: field(
    z
      .string()
      .regex(/^\/[^?#\s]*$/, 'a path such as /tim/callback')
      .optional(),
    { arg: 'path', help: 'also accept callbacks at this path (POST / always works)' },
  ),
  maxSkewSeconds: field(z.preprocess(toNumber, z.number().positive()).default(60), {
    arg: 's',
    help: 'largest accepted |now - RequestTime|',
  }),
  bodyLimit: field(int(1024, 64 * 1024 * 1024).default(1024 * 1024), { arg: 'bytes', help: 'largest accepted body' }),
  deadlineMs: field(int(1, 1999).default(1500), { arg: 'ms', help: 'before-send decision budget, < 2000' }),
  strict: field(z.preprocess(toBoolean, z.boolean()).default(false), {
    help: 'reject bodies that do not match their command schema (400)',
  }),
  logLevel: field(z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'), {
    arg: 'level',
    help: 'trace, debug, info, warn, error, fatal or silent',
  }),
  maxBatch: field(int(1, 100_000).default(1000), { arg: 'n', help: 'most records per commit' }),
  maxPendingRecords: field(int(1, 10_000_000).default(2000), {
    arg: 'n',
    help: 'most records waiting for the store; past it after-callbacks get FAIL at once',
  }),
  maxPendingBytes: field(int(1024 * 1024, 16 * 1024 * 1024 * 1024).default(16 * 1024 * 1024), {
    arg: 'bytes',
    help: 'most bytes of callback bodies waiting for the store',
  }),
  pgCommitsInFlight: field(int(1, 64).default(4), { arg: 'n', help: 'PostgreSQL commits run at once, each on its own connection' }),
  // Admin reads: a time budget each (both backends) and, on SQLite, how many run or wait at once.
  adminReadTimeoutMs: field(int(10, 600_000).default(5000), {
    arg: 'ms',
    help: 'time budget of one admin read; past it 503 STORE_TIMEOUT',
  }),
  maxAdminReads: field(int(1, 1000).default(4), {
    arg: 'n',
    help: 'SQLite: admin reads running or waiting at once; past it 503 TOO_MANY_READS',
  }),
  // No default here: the store derives it from the core count (src/store/sqlite-reader.ts).
  adminReaders: field(int(1, 64).optional(), {
    arg: 'n',
    help: 'SQLite: readers for admin reads (default 1 on 2 cores or fewer, else 2)',
  }),
  background: field(z.enum(['process', 'thread']).default('process'), {
    arg: 'where',
    help: 'where SQLite admin reads and sink delivery run: process (child processes at the lowest priority) or thread',
  }),
  shutdownTimeoutMs: field(int(0, 600_000).default(10_000), { arg: 'ms', help: 'how long shutdown waits for in-flight requests' }),
  tlsCert: field(z.string().min(1).optional(), {
    arg: 'file',
    help: 'serve HTTPS with this PEM certificate (chain); reloaded on SIGHUP; needs --tls-key',
  }),
  tlsKey: field(z.string().min(1).optional(), { arg: 'file', help: 'the PEM private key of --tls-cert; reloaded on SIGHUP' }),
  // Connections: a server-to-server caller sends a request at once and whole (docs/server.md "Operating limits").
  headersTimeoutMs: field(int(100, 600_000).default(10_000), { arg: 'ms', help: "most time for a request's headers to arrive" }),
  requestTimeoutMs: field(int(100, 600_000).default(10_000), { arg: 'ms', help: 'most time for a whole request to arrive' }),
  keepAliveTimeoutMs: field(int(100, 600_000).default(65_000), { arg: 'ms', help: 'how long an idle keep-alive connection stays open' }),
  maxConnections: field(int(1, 1_000_000).default(10_000), {
    arg: 'n',
    help: 'most open connections; past it new ones are closed at once',
  }),
  // /metrics: behind the admin token on the callback port, unless given a port of its own.
  metricsPort: field(int(0, 65535).optional(), {
    arg: 'port',
    help: 'serve /metrics on this port instead, without a token (without it: on the main port, behind the admin token)',
  }),
  metricsHost: field(z.string().min(1).default('127.0.0.1'), { arg: 'host', help: 'address of the metrics port' }),
  sinks: field(z.preprocess(jsonText, sinksSchema).default([]), {
    arg: 'json',
    help: 'where recorded callbacks are delivered onward, as a JSON list (docs/sinks.md)',
  }),
}

type Shape = { [K in keyof typeof CONFIG]: (typeof CONFIG)[K]['schema'] }
const shape = Object.fromEntries(Object.entries(CONFIG).map(([name, f]) => [name, f.schema])) as Shape

export const configSchema = z
  .object(shape)
  .strict()
  .refine((c) => c.requestTimeoutMs >= c.headersTimeoutMs, {
    message: 'must be at least headersTimeoutMs (the headers are part of the request)',
    path: ['requestTimeoutMs'],
  })

export type ServerConfig = z.infer<typeof configSchema>
export type ConfigField = keyof ServerConfig

/** Flag and environment names for each field: `sdkAppId` ↔ `--sdk-app-id` ↔ `TIMHOOK_SDK_APP_ID`. */
export const flagOf = (field: string) => '--' + field.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())
export const envOf = (field: string) => 'TIMHOOK_' + field.replace(/[A-Z]/g, (c) => '_' + c).toUpperCase()

export const CONFIG_FIELDS = Object.keys(CONFIG) as ConfigField[]

/** The schema under its default, optional and preprocessing wrappers: what a value turns into. */
function valueSchema(schema: z.ZodType): z.ZodType {
  if (schema instanceof z.ZodDefault || schema instanceof z.ZodOptional) return valueSchema(schema.def.innerType as z.ZodType)
  if (schema instanceof z.ZodPipe) return valueSchema(schema.def.out as z.ZodType)
  return schema
}

/** How a field is given on the command line, read from its schema. */
export interface FlagSpec {
  field: ConfigField
  /** `--sdk-app-id`. */
  flag: string
  short: string | undefined
  env: string
  /** A boolean field: a switch without a value. */
  switch: boolean
  /** A list of strings: the flag may be repeated (and each value comma-separated). */
  repeatable: boolean
  arg: string
  help: string
  /** The default when nothing sets the field; undefined when the field is optional or required. */
  default: unknown
  required: boolean
}

export const FLAGS: readonly FlagSpec[] = CONFIG_FIELDS.map((name) => {
  const spec: FieldSpec = CONFIG[name]
  const value = valueSchema(spec.schema)
  return {
    field: name,
    flag: flagOf(name),
    short: spec.short === undefined ? undefined : `-${spec.short}`,
    env: envOf(name),
    switch: value instanceof z.ZodBoolean,
    repeatable: value instanceof z.ZodArray && value.def.element instanceof z.ZodString,
    arg: spec.arg ?? 'value',
    help: spec.help,
    default: spec.schema instanceof z.ZodDefault ? (spec.schema.def.defaultValue as unknown) : undefined,
    required: !spec.schema.isOptional(),
  }
})

/** A configuration that cannot be used; the message names the field and its source. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ConfigError'
  }
}

export interface ConfigSources {
  /** Parsed command-line flags, by field name (commander's camelCase). */
  flags?: Record<string, unknown>
  /** Usually process.env. */
  env?: Record<string, string | undefined>
  /** A config file path (YAML or JSON); also taken from TIMHOOK_CONFIG. */
  file?: string
}

/**
 * Merges and validates the configuration.
 * @throws ConfigError naming the field, e.g. `port (from TIMHOOK_PORT): expected an integer …`
 * @example const config = loadConfig({ flags: { port: '8080', sdkAppId: ['1400000000'] }, env: process.env })
 */
export function loadConfig(sources: ConfigSources): ServerConfig {
  const env = sources.env ?? {}
  const merged: Record<string, unknown> = {}
  const origin: Record<string, string> = {}
  const file = sources.file ?? env.TIMHOOK_CONFIG
  if (file !== undefined && file !== '') {
    for (const [key, value] of Object.entries(readConfigFile(file))) {
      merged[key] = value
      origin[key] = file
    }
  }
  for (const field of CONFIG_FIELDS) {
    const value = env[envOf(field)]
    if (value !== undefined && value !== '') {
      merged[field] = value
      origin[field] = envOf(field)
    }
  }
  for (const [field, value] of Object.entries(sources.flags ?? {})) {
    if (value === undefined || !(CONFIG_FIELDS as string[]).includes(field)) continue
    merged[field] = value
    origin[field] = flagOf(field)
  }
  const result = configSchema.safeParse(merged)
  if (result.success) {
    const { tlsCert, tlsKey } = result.data
    if ((tlsCert === undefined) !== (tlsKey === undefined)) {
      const [missing, given] = tlsCert === undefined ? ['tlsCert', 'tlsKey'] : ['tlsKey', 'tlsCert']
      throw new ConfigError(
        `invalid configuration:\n  ${missing}: required with ${given} (from ${origin[given]}); set both ${flagOf('tlsCert')} and ${flagOf('tlsKey')}`,
      )
    }
    return result.data
  }
  const problems = result.error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys' && issue.path.length > 0) {
      // Inside a field's value (a sink definition): which one, and the fields it does not know.
      const field = String(issue.path[0])
      const inner = issue.path
        .slice(1)
        .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
        .join('')
      return `${field}${inner} (from ${origin[field] ?? 'the config'}): unknown field ${issue.keys.join(', ')}`
    }
    if (issue.code === 'unrecognized_keys') {
      return issue.keys
        .map((k) => `${k} (in ${origin[k] ?? 'the config'}): unknown field; known fields: ${CONFIG_FIELDS.join(', ')}`)
        .join('\n  ')
    }
    const field = String(issue.path[0] ?? '')
    // Inside the list of sink definitions: which one, and which field of it.
    const inner =
      field !== 'sinks'
        ? ''
        : issue.path
            .slice(1)
            .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
            .join('')
    if (issue.code === 'custom') return `${field}${inner}${origin[field] === undefined ? '' : ` (from ${origin[field]})`}: ${issue.message}`
    if (origin[field] === undefined) return `${field}: required; set ${flagOf(field)}, ${envOf(field)} or "${field}" in the config file`
    return `${field}${inner} (from ${origin[field]}): ${issue.message}`
  })
  throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`)
}

export function readConfigFile(path: string): Record<string, unknown> {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new ConfigError(`cannot read the config file ${path}: ${(err as Error).message}`)
  }
  let data: unknown
  try {
    // YAML is a superset of JSON: one parser reads both.
    data = parseYaml(text)
  } catch (err) {
    throw new ConfigError(`the config file ${path} is not valid YAML or JSON: ${(err as Error).message}`)
  }
  if (data === null || data === undefined) return {}
  if (typeof data !== 'object' || Array.isArray(data))
    throw new ConfigError(`the config file ${path} must hold an object of fields, e.g. "port: 8080"`)
  return data as Record<string, unknown>
}
