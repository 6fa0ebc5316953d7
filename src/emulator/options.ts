import type { SentCallback } from './sent-callback.js'

/**
 * Options of the emulator, validated once at start so that a typo fails loudly instead of
 * silently sending nothing.
 */

/** The callbacks the emulator can fire: the ones its REST API triggers. */
export const EMULATED_COMMANDS = [
  'Group.CallbackBeforeSendMsg',
  'Group.CallbackAfterSendMsg',
  'Group.CallbackAfterRecallMsg',
  'C2C.CallbackBeforeSendMsg',
  'C2C.CallbackAfterSendMsg',
  'C2C.CallbackAfterMsgWithDraw',
] as const
export type EmulatedCommand = (typeof EMULATED_COMMANDS)[number]

export interface EmulatorOptions {
  /** The app's SDKAppID: REST calls must carry it as `sdkappid`; callbacks carry it as `SdkAppid`. */
  sdkAppId: number | string
  /** Where callbacks go (the App backend). Without it the emulator stores messages and fires nothing. */
  callbackUrl?: string | undefined
  /** Callback authentication token: adds `Sign`/`RequestTime` to every callback. */
  token?: string | undefined
  /** Enabled callbacks (the console's switches). Default: every emulated command. */
  commands?: ReadonlyArray<string> | undefined
  /** Callback timeout, ms. Default 2000, Tencent's fixed value. */
  timeoutMs?: number | undefined
  /** Refuse a message when its before-send callback fails (timeout, non-200, not JSON). Default false: deliver, as Tencent does. */
  failClosed?: boolean | undefined
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number | undefined
  /** Address to listen on. Default 127.0.0.1. */
  host?: string | undefined
  /** When set, only these UserIDs exist ("imported"); other senders and recipients are refused. Default: every account exists. */
  accounts?: ReadonlyArray<string> | undefined
  /** When set, only these identifiers may call the REST API (60010 otherwise). Default: any non-empty identifier. */
  admins?: ReadonlyArray<string> | undefined
  /** Keep-alive connections to the callback URL. Default 32. */
  connections?: number | undefined
  /** Largest `MsgBody` + `CloudCustomData`, bytes (80002 / 90002 above it). Default 12 KiB. */
  maxMsgBytes?: number | undefined
  /** Group `Random` de-duplication window, ms. Default 5 min (send_group_msg page). */
  groupDedupMs?: number | undefined
  /** One-to-one de-duplication window, ms. Default 120 s (sendmsg page). */
  c2cDedupMs?: number | undefined
  /** How many callback records `callbacks()` and `GET /emulator/callbacks` keep. Default 1000. */
  callbackLogSize?: number | undefined
  /** Called once per callback when its outcome is known (the CLI logs them). */
  onCallback?: ((record: SentCallback) => void) | undefined
  /** Clock in ms, injectable for tests. */
  now?: (() => number) | undefined
}

export interface ResolvedEmulatorOptions {
  sdkAppId: string
  callbackUrl: URL | undefined
  token: string | undefined
  commands: ReadonlySet<string>
  timeoutMs: number
  failClosed: boolean
  port: number
  host: string
  accounts: ReadonlySet<string> | undefined
  admins: ReadonlySet<string> | undefined
  connections: number
  maxMsgBytes: number
  groupDedupMs: number
  c2cDedupMs: number
  callbackLogSize: number
  onCallback: ((record: SentCallback) => void) | undefined
  now: () => number
}

/** Thrown for an invalid option; the message names the option and the problem. */
export class EmulatorOptionError extends Error {
  constructor(option: string, problem: string) {
    super(`invalid emulator option ${option}: ${problem}`)
    this.name = 'EmulatorOptionError'
  }
}

const positiveInt = (name: string, value: number | undefined, fallback: number): number => {
  const v = value ?? fallback
  if (!Number.isInteger(v) || v <= 0) throw new EmulatorOptionError(name, `must be a positive integer, got ${String(value)}`)
  return v
}

/** Defaults the command line shows and passes as they are. */
export const EMULATOR_DEFAULTS = { timeoutMs: 2000, host: '127.0.0.1' } as const

/** Validates and fills in defaults. */
export function resolveEmulatorOptions(options: EmulatorOptions): ResolvedEmulatorOptions {
  if (options === null || typeof options !== 'object')
    throw new EmulatorOptionError('options', 'pass an object, e.g. { sdkAppId: 1400000000 }')
  const sdkAppId = String(options.sdkAppId)
  if (!/^\d{1,20}$/.test(sdkAppId)) throw new EmulatorOptionError('sdkAppId', `must be numeric, got ${JSON.stringify(options.sdkAppId)}`)
  let callbackUrl: URL | undefined
  if (options.callbackUrl !== undefined && options.callbackUrl !== '') {
    try {
      callbackUrl = new URL(options.callbackUrl)
    } catch {
      throw new EmulatorOptionError('callbackUrl', `not a URL: ${options.callbackUrl}`)
    }
    if (callbackUrl.protocol !== 'http:' && callbackUrl.protocol !== 'https:') {
      throw new EmulatorOptionError(
        'callbackUrl',
        `must start with http:// or https:// (as the console requires), got ${options.callbackUrl}`,
      )
    }
  }
  if (options.token !== undefined && (typeof options.token !== 'string' || options.token.length === 0 || options.token.length > 128)) {
    throw new EmulatorOptionError('token', 'must be a string of 1–128 characters')
  }
  const commands = new Set<string>(options.commands ?? EMULATED_COMMANDS)
  const unknown = [...commands].filter((c) => !(EMULATED_COMMANDS as ReadonlyArray<string>).includes(c))
  if (unknown.length > 0) {
    throw new EmulatorOptionError('commands', `the emulator does not fire ${unknown.join(', ')}; it fires ${EMULATED_COMMANDS.join(', ')}`)
  }
  const port = options.port ?? 0
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new EmulatorOptionError('port', `must be 0–65535, got ${String(options.port)}`)
  const list = (name: string, v: ReadonlyArray<string> | undefined) => {
    if (v === undefined) return undefined
    if (!Array.isArray(v) || v.some((a) => typeof a !== 'string' || a === ''))
      throw new EmulatorOptionError(name, 'must be a list of non-empty strings')
    return new Set(v)
  }
  return {
    sdkAppId,
    callbackUrl,
    token: options.token,
    commands,
    timeoutMs: positiveInt('timeoutMs', options.timeoutMs, EMULATOR_DEFAULTS.timeoutMs),
    failClosed: options.failClosed ?? false,
    port,
    host: options.host ?? EMULATOR_DEFAULTS.host,
    accounts: list('accounts', options.accounts),
    admins: list('admins', options.admins),
    connections: positiveInt('connections', options.connections, 32),
    maxMsgBytes: positiveInt('maxMsgBytes', options.maxMsgBytes, 12 * 1024),
    groupDedupMs: positiveInt('groupDedupMs', options.groupDedupMs, 5 * 60_000),
    c2cDedupMs: positiveInt('c2cDedupMs', options.c2cDedupMs, 120_000),
    callbackLogSize: positiveInt('callbackLogSize', options.callbackLogSize, 1000),
    onCallback: options.onCallback,
    now: options.now ?? Date.now,
  }
}
