/**
 * Rate limits as sliding windows (a log of admitted times per key), in memory. The store is
 * behind the `RateStore` interface so a policy reload keeps the windows (the same store is passed
 * to the new policy) and so a shared implementation can replace it for several instances (see
 * docs/policy.md, "Several instances").
 */

/** Where rate windows live. `hit` is synchronous: it sits on the before-send hot path. */
export interface RateStore {
  /**
   * Records a message of `id` (a sender or a group) in the windows of `scope` (a rule and what
   * it counts, e.g. `flood|sender`) at `now` (ms), unless `max` messages were already admitted
   * within the last `windowMs`. Returns the number admitted in the window before this one when
   * the limit is reached (the message is then not recorded), or -1 when it was admitted.
   *
   * Scope and id come apart so that the hot path never builds a key string: concatenating and then
   * hashing a fresh key cost ~1.2 µs per message in the server (cold caches), most of a window's cost.
   */
  hit(scope: string, id: string, now: number, windowMs: number, max: number): number
}

/**
 * One id's window: admitted times in a ring, `[start, count, t0, t1, …]`. It grows (doubling) up
 * to `max` slots, so an id holds no more than it was admitted in one window.
 */
type Ring = Float64Array

interface Scope {
  readonly ids: Map<string, Ring>
  windowMs: number
}

/**
 * An exact sliding-window log per (scope, id), in memory. Memory is bounded by the traffic of the
 * last window: ids idle for longer than their window are swept when the number of ids doubles.
 * @example
 * const store = new SlidingWindowStore()
 * store.hit('flood|sender', 'alice', Date.now(), 10_000, 5) // -1: admitted
 */
export class SlidingWindowStore implements RateStore {
  private readonly scopes = new Map<string, Scope>()
  private count = 0
  private sweepAt = 10_000

  hit(scope: string, id: string, now: number, windowMs: number, max: number): number {
    let sc = this.scopes.get(scope)
    if (sc === undefined) this.scopes.set(scope, (sc = { ids: new Map(), windowMs }))
    sc.windowMs = windowMs
    let r = sc.ids.get(id)
    if (r === undefined) {
      if (this.count >= this.sweepAt) this.sweep(now)
      r = new Float64Array(2 + Math.min(max, 4))
      sc.ids.set(id, r)
      this.count++
    }
    let size = r.length - 2
    let start = r[0]!
    let n = r[1]!
    const from = now - windowMs
    while (n > 0 && r[2 + start]! <= from) {
      start = start + 1 === size ? 0 : start + 1
      n--
    }
    if (n >= max) {
      r[0] = start
      r[1] = n
      return n
    }
    if (n === size) {
      // Full but under max (or max grew with a reload): a bigger ring, oldest first.
      const bigger = new Float64Array(2 + Math.min(Math.max(size * 2, 4), max))
      for (let k = 0; k < n; k++) bigger[2 + k] = r[2 + ((start + k) % size)]!
      sc.ids.set(id, (r = bigger))
      start = 0
      size = r.length - 2
    }
    let at = start + n
    if (at >= size) at -= size
    r[2 + at] = now
    r[0] = start
    r[1] = n + 1
    return -1
  }

  /** Number of ids held, over all scopes (for tests and diagnostics). */
  get size(): number {
    return this.count
  }

  /** Forgets ids whose newest admitted time is older than their scope's window. */
  sweep(now: number): void {
    for (const [name, sc] of this.scopes) {
      const from = now - sc.windowMs
      for (const [id, r] of sc.ids) {
        const n = r[1]!
        const size = r.length - 2
        if (n === 0 || r[2 + ((r[0]! + n - 1) % size)]! <= from) {
          sc.ids.delete(id)
          this.count--
        }
      }
      if (sc.ids.size === 0) this.scopes.delete(name)
    }
    this.sweepAt = Math.max(10_000, this.count * 2)
  }
}
