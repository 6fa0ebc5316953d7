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

export const configSchema = z
  .object({
    port: int(0, 65535).default(8080),
    host: z.string().min(1).default('127.0.0.1'),
    sdkAppId: z.preprocess(
      splitList,
      z.array(z.string().regex(/^\d+$/, 'expected a numeric SDKAppID')).min(1, 'at least one SDKAppID is required'),
    ),
    token: z.preprocess(splitList, z.array(z.string().min(1).max(128)).min(1)).optional(),
    db: z.string().min(1).default('./timhook.db'),
    pgSchema: z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'lower-case letters, digits and _')
      .default('public'),
    pgPoolSize: int(1, 1000).default(10),
    adminToken: z.string().min(16, 'use at least 16 characters').optional(),
    policy: z.string().min(1).optional(),
    callbackPath: z
      .string()
      .regex(/^\/[^?#\s]*$/, 'a path such as /tim/callback')
      .optional(),
    maxSkewSeconds: z.preprocess(toNumber, z.number().positive()).default(60),
    bodyLimit: int(1024, 64 * 1024 * 1024).default(1024 * 1024),
    deadlineMs: int(1, 1999).default(1500),
    strict: z.preprocess(toBoolean, z.boolean()).default(false),
    logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
    maxBatch: int(1, 100_000).default(1000),
    maxPendingRecords: int(1, 10_000_000).default(2000),
    maxPendingBytes: int(1024 * 1024, 16 * 1024 * 1024 * 1024).default(16 * 1024 * 1024),
    pgCommitsInFlight: int(1, 64).default(4),
    // Admin reads: a time budget each (both backends) and, on SQLite, how many run or wait at once.
    adminReadTimeoutMs: int(10, 600_000).default(5000),
    maxAdminReads: int(1, 1000).default(4),
    shutdownTimeoutMs: int(0, 600_000).default(10_000),
    tlsCert: z.string().min(1).optional(),
    tlsKey: z.string().min(1).optional(),
    // Connections: a server-to-server caller sends a request at once and whole (docs/server.md "Operating limits").
    headersTimeoutMs: int(100, 600_000).default(10_000),
    requestTimeoutMs: int(100, 600_000).default(10_000),
    keepAliveTimeoutMs: int(100, 600_000).default(65_000),
    maxConnections: int(1, 1_000_000).default(10_000),
    // /metrics: behind the admin token on the callback port, unless given a port of its own.
    metricsPort: int(0, 65535).optional(),
    metricsHost: z.string().min(1).default('127.0.0.1'),
    /** Where recorded callbacks are delivered (docs/sinks.md); `TIMHOOK_SINKS` takes the same list as JSON. */
    sinks: z.preprocess(jsonText, sinksSchema).default([]),
  })
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

export const CONFIG_FIELDS = Object.keys(configSchema.shape) as ConfigField[]

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
