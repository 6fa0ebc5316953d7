/** Options of `timhook emulator load` and `runLoad`, with the parsers the CLI uses. */
export const OPERATIONS = ['group', 'c2c', 'recall', 'withdraw'] as const
export type Operation = (typeof OPERATIONS)[number]
export type Mix = Record<Operation, number>

/** Group sends in many groups, one-to-one sends, and a few recalls and withdraws of what was sent. */
export const DEFAULT_MIX: Mix = { group: 60, c2c: 30, recall: 5, withdraw: 5 }

/** What `runLoad` uses for an option not given; `timhook emulator load`'s flags default to the same. */
export const LOAD_DEFAULTS = {
  sdkAppId: '1400000000',
  groups: 200,
  users: 1000,
  connections: 64,
  timeoutMs: 2000,
  maxInFlight: 1024,
} as const

export interface LoadOptions {
  /** The callback URL of the backend under test. */
  target: string
  /** `SdkAppid` of the callbacks. Default 1400000000. */
  sdkAppId?: string | number | undefined
  /** Signs every callback (`Sign`/`RequestTime`) when set. */
  token?: string | undefined
  /** Target rate, callbacks per second (every HTTP request counts, before- and after-events alike). */
  rate: number
  /** How long to send, ms. In-flight callbacks are then awaited (at most `timeoutMs`). */
  durationMs: number
  /** Relative weights of the operations. Default {@link DEFAULT_MIX}. */
  mix?: Partial<Mix> | undefined
  /** Number of groups the group sends spread over (every tenth is a Community topic). Default 200. */
  groups?: number | undefined
  /** Number of accounts. Default 1000. */
  users?: number | undefined
  /** Keep-alive connections to the target. Default 64. */
  connections?: number | undefined
  /** Per-callback timeout, ms. Default 2000 (Tencent's). */
  timeoutMs?: number | undefined
  /** At most this many callbacks in flight; beyond it the generator waits (and reports falling behind). Default 1024: deeper client queues cost CPU per callback. */
  maxInFlight?: number | undefined
  /** Called about four times a second. */
  onProgress?: ((progress: LoadProgress) => void) | undefined
  /** Stops sending early (e.g. Ctrl-C); the report covers what was sent. */
  signal?: AbortSignal | undefined
}

export interface LoadProgress {
  elapsedMs: number
  durationMs: number
  sent: number
  completed: number
  inFlight: number
}

/** Parses `30s`, `2m`, `500ms` or a bare number of seconds into ms. */
export function parseDuration(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$/.exec(text)
  if (m === null) throw new Error(`invalid duration ${JSON.stringify(text)}: use e.g. 30s, 2m or 500ms`)
  const n = Number(m[1])
  const ms = m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : n * 1000
  if (!(ms > 0)) throw new Error(`invalid duration ${JSON.stringify(text)}: must be positive`)
  return ms
}

/** Parses `group=60,c2c=30,recall=5,withdraw=5`; operations not named get weight 0. */
export function parseMix(text: string): Mix {
  const mix: Mix = { group: 0, c2c: 0, recall: 0, withdraw: 0 }
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [name, weight] = part.split('=')
    if (!(OPERATIONS as ReadonlyArray<string>).includes(name ?? ''))
      throw new Error(`invalid --mix entry ${JSON.stringify(part)}: operations are ${OPERATIONS.join(', ')}`)
    const w = Number(weight)
    if (!(Number.isFinite(w) && w >= 0)) throw new Error(`invalid --mix weight in ${JSON.stringify(part)}: use name=number`)
    mix[name as Operation] = w
  }
  if (mix.group + mix.c2c === 0) throw new Error('--mix needs a positive weight for group or c2c: recalls and withdraws need sent messages')
  return mix
}
