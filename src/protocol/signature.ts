import { createHash, timingSafeEqual } from 'node:crypto'

/**
 * Signs a callback as the IM backend does: lower-case hex `sha256(token + RequestTime)`
 * (plain SHA-256, not HMAC; Tencent's own example below).
 * @example sign('xxxxyyyy', 1669872112) // '17773bc39a671d7b9aa835458704d2a6db81360a5940292b587d6d760d484061'
 */
export function sign(token: string, requestTime: number | string): string {
  return createHash('sha256')
    .update(token + String(requestTime), 'utf8')
    .digest('hex')
}

export interface VerifyOptions {
  /** One token, or several during a rotation: any of them validates. */
  tokens: string | ReadonlyArray<string>
  /** Largest accepted |now − RequestTime| in seconds. Default 60, as Tencent's console advises. */
  maxSkewSeconds?: number | undefined
  /** Current time in ms; injectable for tests. */
  now?: number | undefined
}

export type VerifyResult = { ok: true } | { ok: false; reason: 'missing' | 'invalid-time' | 'skew' | 'mismatch'; skewSeconds?: number }

const UNIX_SECONDS = /^\d{1,12}$/

// The expected digests depend only on (tokens, RequestTime), and RequestTime has a resolution of
// one second, so under load nearly every request repeats the previous one's: keep the last. The
// tokens are compared by value (a copy is kept), so a tokens array changed in place between calls
// (a rotation) is seen at once.
let cachedTokens: ReadonlyArray<string> = []
let cachedTime = ''
let cachedDigests: Buffer[] = []

function sameTokens(tokens: string | ReadonlyArray<string>): boolean {
  if (typeof tokens === 'string') return cachedTokens.length === 1 && cachedTokens[0] === tokens
  if (tokens.length !== cachedTokens.length) return false
  for (let i = 0; i < tokens.length; i++) if (tokens[i] !== cachedTokens[i]) return false
  return true
}

function expectedDigests(tokens: string | ReadonlyArray<string>, requestTime: string): Buffer[] {
  if (requestTime === cachedTime && sameTokens(tokens)) return cachedDigests
  const list = typeof tokens === 'string' ? [tokens] : [...tokens]
  // Kept as the ASCII bytes of the lower-case hex digest: comparing the given Sign needs no hex decoding.
  cachedDigests = list.map((t) => Buffer.from(sign(t, requestTime), 'latin1'))
  cachedTokens = list
  cachedTime = requestTime
  return cachedDigests
}

// The given Sign's bytes, in one reused buffer: verify() is synchronous and runs for every callback
// (a fresh lower-cased copy and Buffer per call cost more than the comparison). It has room for 68
// bytes so that a Sign with any non-ASCII character writes more than 64 (no character is over 4).
const scratch = Buffer.alloc(68)
const signBytes = scratch.subarray(0, 64)

/** Compares a 64-character Sign with every expected digest, with no early exit (constant time). */
function matchesAny(given: string, digests: Buffer[]): boolean {
  if (scratch.write(given, 0, 68, 'utf8') !== 64) return false // not ASCII, so not hex
  let matched = false
  for (const expected of digests) {
    if (timingSafeEqual(expected, signBytes)) matched = true
  }
  return matched
}

const VERIFIED: VerifyResult = Object.freeze({ ok: true })

/**
 * Verifies `Sign`/`RequestTime` against one or more tokens in constant time, and checks that
 * `RequestTime` lies within the replay window.
 * @example verify({ sign: q.Sign, requestTime: q.RequestTime }, { tokens: ['old', 'new'] })
 */
export function verify(
  params: { sign: string | undefined | null; requestTime: string | undefined | null },
  options: VerifyOptions,
): VerifyResult {
  const { sign: given, requestTime } = params
  if (!given || !requestTime) return { ok: false, reason: 'missing' }
  if (!UNIX_SECONDS.test(requestTime)) return { ok: false, reason: 'invalid-time' }
  const nowSeconds = Math.floor((options.now ?? Date.now()) / 1000)
  const skew = Number(requestTime) - nowSeconds
  if (Math.abs(skew) > (options.maxSkewSeconds ?? 60)) return { ok: false, reason: 'skew', skewSeconds: skew }
  if (given.length !== 64) return { ok: false, reason: 'mismatch' }
  // Compare against every token, without an early exit, so timing reveals neither which token
  // matched nor how much of it. Tencent sends lower-case hex; upper case is accepted on a second pass.
  const digests = expectedDigests(options.tokens, requestTime)
  let matched = matchesAny(given, digests)
  if (!matched) {
    const lower = given.toLowerCase()
    if (lower !== given) matched = matchesAny(lower, digests)
  }
  return matched ? VERIFIED : { ok: false, reason: 'mismatch' }
}
