import { createHash, timingSafeEqual } from 'node:crypto'

/**
 * Signs a callback as the IM backend does: lower-case hex `sha256(token + RequestTime)`
 * (plain SHA-256, not HMAC; protocol reference §1.3).
 * @example sign('xxxxyyyy', 1669872112) // '17773bc39a671d7b9aa835458704d2a6db81360a5940292b587d6d760d484061'
 */
export function sign(token: string, requestTime: number | string): string {
  return createHash('sha256').update(token + String(requestTime), 'utf8').digest('hex')
}

export interface VerifyOptions {
  /** One token, or several during a rotation: any of them validates. */
  tokens: string | ReadonlyArray<string>
  /** Largest accepted |now − RequestTime| in seconds. Default 60, as Tencent's console advises. */
  maxSkewSeconds?: number
  /** Current time in ms; injectable for tests. */
  now?: number
}

export type VerifyResult =
  | { ok: true }
  | { ok: false; reason: 'missing' | 'invalid-time' | 'skew' | 'mismatch'; skewSeconds?: number }

const HEX64 = /^[0-9a-fA-F]{64}$/
const UNIX_SECONDS = /^\d{1,12}$/

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
  if (!HEX64.test(given)) return { ok: false, reason: 'mismatch' }
  const givenBytes = Buffer.from(given.toLowerCase(), 'hex')
  const tokens = typeof options.tokens === 'string' ? [options.tokens] : options.tokens
  let matched = false
  // Compare against every token, without an early exit, so timing reveals neither which token matched nor how much of it.
  for (const token of tokens) {
    const expected = createHash('sha256').update(token + requestTime, 'utf8').digest()
    if (timingSafeEqual(expected, givenBytes)) matched = true
  }
  return matched ? { ok: true } : { ok: false, reason: 'mismatch' }
}
