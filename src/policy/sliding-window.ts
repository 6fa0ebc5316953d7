/**
 * Rate limits as sliding windows (a log of admitted times per key), in memory. The store is
 * behind the `RateStore` interface so a policy reload keeps the windows (the same store is passed
 * to the new policy) and so a shared implementation can replace it for several instances (see
 * docs/policy.md, "Several instances").
 *
 * A message is counted once: the IM backend may deliver the same before-send callback again, and
 * a redelivery must not spend the sender's quota a second time (nor turn an allow into a deny).
 * The store remembers the last 32,768 admitted (scope, message) pairs by fingerprint, each for as
 * long as its admission is in the window. A refused message is not remembered: it spent nothing,
 * and deciding it again lets a resend through once the window has room.
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
   *
   * `message` identifies the message (see `beforeSendMessageKey`); when given, a message admitted
   * in this scope within the window is admitted again without being counted twice. Without it
   * every call counts.
   */
  hit(scope: string, id: string, now: number, windowMs: number, max: number, message?: string): number
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
  private readonly remember: number
  private outcomes: OutcomeTable | undefined // made on the first message with an identity
  private count = 0
  private sweepAt = 10_000

  /** @param options.remember how many admitted (scope, message) pairs are kept for redeliveries (default 32,768; ~900 KiB). */
  constructor(options: { remember?: number } = {}) {
    const remember = options.remember ?? 32_768
    if (!Number.isInteger(remember) || remember < 1 || remember > 1 << 24) {
      throw new RangeError(`remember must be an integer from 1 to ${1 << 24}, got ${String(remember)}`)
    }
    this.remember = remember
  }

  hit(scope: string, id: string, now: number, windowMs: number, max: number, message?: string): number {
    if (message === undefined) return this.count1(scope, id, now, windowMs, max)
    const high = fingerprint(scope, message)
    const low = FP_LOW
    const admitted = (this.outcomes ??= new OutcomeTable(this.remember))
    const slot = admitted.find(high, low)
    if (slot >= 0 && now - admitted.time(slot) < windowMs) return -1 // a redelivery: admitted, not counted again
    const result = this.count1(scope, id, now, windowMs, max)
    if (result < 0) {
      if (slot >= 0) admitted.setTime(slot, now)
      else admitted.add(high, low, now)
    }
    return result
  }

  private count1(scope: string, id: string, now: number, windowMs: number, max: number): number {
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

/** The second half of the last `fingerprint` (a module variable: no array allocated per call). */
let FP_LOW = 0

/**
 * 64 bits of `scope` NUL `message`, in two 32-bit halves (FNV-1a and a second multiplicative hash
 * in the same pass, each finished with a mix): returns the high half, sets `FP_LOW`. At 32,768
 * remembered pairs two messages share a fingerprint with a probability of about 2⁻⁴⁹ per lookup.
 */
function fingerprint(scope: string, message: string): number {
  let h = 0x811c9dc5
  let g = 0x9747b28c
  for (let i = 0; i < scope.length; i++) {
    const c = scope.charCodeAt(i)
    h = Math.imul(h ^ c, 0x01000193)
    g = Math.imul(g ^ c, 0x5bd1e995) ^ (g >>> 15)
  }
  h = Math.imul(h, 0x01000193) // the NUL between the two strings
  g = Math.imul(g, 0x5bd1e995) ^ (g >>> 15)
  for (let i = 0; i < message.length; i++) {
    const c = message.charCodeAt(i)
    h = Math.imul(h ^ c, 0x01000193)
    g = Math.imul(g ^ c, 0x5bd1e995) ^ (g >>> 15)
  }
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  g ^= g >>> 16
  g = Math.imul(g, 0xc2b2ae35)
  FP_LOW = g ^ (g >>> 16)
  return h
}

/**
 * The last `capacity` admitted fingerprints and their admission times, first in first out, in
 * typed arrays only (open addressing, linear probing, backward-shift deletion): nothing the garbage
 * collector must trace or promote, which in the server is what a map of recent objects costs most.
 */
class OutcomeTable {
  private readonly capacity: number
  private readonly index: Int32Array // slot + 1, or 0 when free
  private readonly mask: number
  /** By slot: high, low (side by side: a lookup reads one cache line). */
  private readonly slots: Int32Array
  private readonly times: Float64Array
  private next = 0
  private full = false

  constructor(capacity: number) {
    this.capacity = capacity
    let size = 8
    while (size < this.capacity * 2) size *= 2 // load ≤ 0.5: short probe runs
    this.index = new Int32Array(size)
    this.mask = size - 1
    this.slots = new Int32Array(this.capacity * 2)
    this.times = new Float64Array(this.capacity)
  }

  /** The slot holding this fingerprint, or -1. */
  find(high: number, low: number): number {
    const slots = this.slots
    for (let i = high & this.mask; ; i = (i + 1) & this.mask) {
      const s = this.index[i]!
      if (s === 0) return -1
      if (slots[(s - 1) * 2] === high && slots[(s - 1) * 2 + 1] === low) return s - 1
    }
  }

  time(slot: number): number {
    return this.times[slot]!
  }

  setTime(slot: number, t: number): void {
    this.times[slot] = t
  }

  /** Adds a fingerprint that `find` did not find; forgets the oldest when full. */
  add(high: number, low: number, t: number): void {
    const slot = this.next
    if (this.full) this.unindex(slot)
    this.slots[slot * 2] = high
    this.slots[slot * 2 + 1] = low
    this.times[slot] = t
    let i = high & this.mask
    while (this.index[i] !== 0) i = (i + 1) & this.mask
    this.index[i] = slot + 1
    this.next = slot + 1 === this.capacity ? 0 : slot + 1
    if (this.next === 0) this.full = true
  }

  /** Removes the slot from the index; backward shift keeps every probe run unbroken. */
  private unindex(slot: number): void {
    const mask = this.mask
    const slots = this.slots
    let i = slots[slot * 2]! & mask
    while (this.index[i] !== slot + 1) i = (i + 1) & mask
    for (let j = (i + 1) & mask; this.index[j] !== 0; j = (j + 1) & mask) {
      const home = slots[(this.index[j]! - 1) * 2]! & mask
      // The entry at j may move back to i only if its home is not in the cyclic range (i, j].
      if (((j - home) & mask) >= ((j - i) & mask)) {
        this.index[i] = this.index[j]!
        i = j
      }
    }
    this.index[i] = 0
  }
}
