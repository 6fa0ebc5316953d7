/**
 * Rate limits as sliding windows (a log of admitted times per key), in memory. The store is
 * behind the `RateStore` interface so a policy reload keeps the windows (the same store is passed
 * to the new policy) and so a shared implementation can replace it for several instances (see
 * docs/policy.md, "Several instances").
 */

/** Where rate windows live. `hit` is synchronous: it sits on the before-send hot path. */
export interface RateStore {
  /**
   * Records a message for `key` at `now` (ms) unless `max` messages were already admitted within
   * the last `windowMs`. Returns the number admitted in the window before this one when the
   * limit is reached (the message is then not recorded), or -1 when it was admitted.
   */
  hit(key: string, now: number, windowMs: number, max: number): number
}

interface Log {
  times: number[]
  head: number
}

/**
 * An exact sliding-window log per key. Memory is bounded by the traffic of the last window:
 * keys idle for longer than their window are swept when the number of keys doubles.
 * @example
 * const store = new SlidingWindowStore()
 * store.hit('flood|sender|alice', Date.now(), 10_000, 5) // -1: admitted
 */
export class SlidingWindowStore implements RateStore {
  private readonly logs = new Map<string, Log>()
  private readonly windows = new Map<string, number>()
  private sweepAt = 10_000

  hit(key: string, now: number, windowMs: number, max: number): number {
    let log = this.logs.get(key)
    if (log === undefined) {
      if (this.logs.size >= this.sweepAt) this.sweep(now)
      log = { times: [], head: 0 }
      this.logs.set(key, log)
      this.windows.set(key, windowMs)
    }
    const times = log.times
    const from = now - windowMs
    while (log.head < times.length && times[log.head]! <= from) log.head++
    if (log.head > 32 && log.head * 2 > times.length) {
      times.splice(0, log.head)
      log.head = 0
    }
    const count = times.length - log.head
    if (count >= max) return count
    times.push(now)
    return -1
  }

  /** Number of keys held (for tests and diagnostics). */
  get size(): number {
    return this.logs.size
  }

  /** Forgets keys whose newest admitted time is older than their window. */
  sweep(now: number): void {
    for (const [key, log] of this.logs) {
      const last = log.times[log.times.length - 1]
      if (last === undefined || last <= now - (this.windows.get(key) ?? 0)) {
        this.logs.delete(key)
        this.windows.delete(key)
      }
    }
    this.sweepAt = Math.max(10_000, this.logs.size * 2)
  }
}
