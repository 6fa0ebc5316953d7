/** Retry delays: exponential, capped, with jitter so that many sinks failing together do not retry in step. */

export interface BackoffOptions {
  /** First delay, ms. Default 200. */
  baseMs?: number | undefined
  /** Longest delay, ms. Default 30 000. */
  maxMs?: number | undefined
}

/**
 * The delay before retry number `attempt` (1 = the first retry): uniformly random in
 * [d/2, d] where d = min(maxMs, baseMs · 2^(attempt−1)) ("equal jitter": never less than half
 * the exponential step, so the spacing still grows).
 * @example backoffDelay(3, { baseMs: 200 }) // between 400 and 800
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}, random: () => number = Math.random): number {
  const base = options.baseMs ?? 200
  const max = options.maxMs ?? 30_000
  const d = Math.min(max, base * 2 ** Math.min(Math.max(attempt - 1, 0), 30))
  return Math.round(d / 2 + (random() * d) / 2)
}
