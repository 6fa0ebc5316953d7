import { TimhookError } from '../protocol/errors.js'
import { isVerdict, verdict, type Verdict } from '../protocol/verdict.js'
import type { Logger } from './logger.js'
import { silentLogger } from './logger.js'

export interface ReceiverOptions {
  /** The app's SDKAppID, or several when one receiver serves several apps. */
  sdkAppId: number | string | ReadonlyArray<number | string>
  /** Callback authentication token(s). When set, every request must carry a valid `Sign`. Several during rotation. */
  token?: string | ReadonlyArray<string> | undefined
  /** Largest accepted |now − RequestTime|, seconds. Default 60 (Tencent's console advice). */
  maxSkewSeconds?: number | undefined
  /** Largest accepted body, bytes. Default 1 MiB. */
  bodyLimit?: number | undefined
  /** Budget for a before-event decision, ms. Default 1500; must stay below Tencent's 2000 ms timeout. */
  deadlineMs?: number | undefined
  /** The verdict sent when a decision is late, throws or is invalid. Default `verdict.allow()` (Tencent's own fail-open). */
  onDeadline?: Verdict | undefined
  /** Reject (400) a body that does not match its command's schema, instead of accepting it and reporting it. Default false. */
  strict?: boolean | undefined
  /** A pino-compatible logger. Default: silent. */
  logger?: Logger | undefined
  /** Clock in ms, injectable for tests. */
  now?: (() => number) | undefined
}

export interface ResolvedOptions {
  sdkAppIds: ReadonlySet<string>
  sdkAppIdList: string
  tokens: ReadonlyArray<string> | undefined
  maxSkewSeconds: number
  bodyLimit: number
  deadlineMs: number
  fallback: Verdict
  strict: boolean
  logger: Logger
  now: () => number
}

const invalid = (option: string, problem: string) => new TimhookError('TIMHOOK_CONFIG_INVALID', option, problem)

/** Validates options once, at construction, so a misconfiguration fails at start-up and not per request. */
export function resolveOptions(options: ReceiverOptions): ResolvedOptions {
  if (options === null || typeof options !== 'object') throw invalid('options', 'pass an object, e.g. { sdkAppId: 1400000000 }')
  const ids = (Array.isArray(options.sdkAppId) ? options.sdkAppId : [options.sdkAppId]) as Array<number | string>
  if (ids.length === 0 || ids.some((id) => !/^\d+$/.test(String(id)))) {
    throw invalid('sdkAppId', `expected a numeric SDKAppID or a list of them, got ${JSON.stringify(options.sdkAppId)}`)
  }
  let tokens: string[] | undefined
  if (options.token !== undefined) {
    tokens = (typeof options.token === 'string' ? [options.token] : [...options.token]).filter((t) => t !== '')
    if (tokens.length === 0) throw invalid('token', 'empty; omit it to disable Sign verification')
    if (tokens.some((t) => typeof t !== 'string' || t.length > 128)) throw invalid('token', 'each token is a string of 1–128 characters')
  }
  const maxSkewSeconds = options.maxSkewSeconds ?? 60
  if (!(maxSkewSeconds > 0 && Number.isFinite(maxSkewSeconds)))
    throw invalid('maxSkewSeconds', `must be a positive number, got ${maxSkewSeconds}`)
  const bodyLimit = options.bodyLimit ?? 1024 * 1024
  if (!(Number.isInteger(bodyLimit) && bodyLimit > 0)) throw invalid('bodyLimit', `must be a positive integer of bytes, got ${bodyLimit}`)
  const deadlineMs = options.deadlineMs ?? 1500
  if (!(deadlineMs > 0 && deadlineMs < 2000)) {
    throw invalid('deadlineMs', `must be between 0 and 2000 (Tencent gives up after 2000 ms), got ${deadlineMs}`)
  }
  const fallback = options.onDeadline ?? verdict.allow()
  if (!isVerdict(fallback)) throw invalid('onDeadline', 'must be a verdict built with verdict.allow(), verdict.deny() or verdict.drop()')
  const sdkAppIds = new Set(ids.map(String))
  return {
    sdkAppIds,
    sdkAppIdList: [...sdkAppIds].join(' or '),
    tokens,
    maxSkewSeconds,
    bodyLimit,
    deadlineMs,
    fallback,
    strict: options.strict ?? false,
    logger: options.logger ?? silentLogger,
    now: options.now ?? Date.now,
  }
}
