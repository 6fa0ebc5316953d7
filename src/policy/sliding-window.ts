/**
 * Rate limits as sliding windows (a log of admitted times per key), in memory. The store is
 * behind the `RateStore` interface so a policy reload keeps the windows (the same store is passed
 * to the new policy) and so a shared implementation can replace it for several instances (see
 * docs/policy.md, "Several instances").
 *
 * A message is counted once: the IM backend may deliver the same before-send callback again, and
 * a redelivery must not spend the sender's quota a second time (nor turn an allow into a deny).
 * Each admitted time is kept with a 53-bit fingerprint of its message, so a message is recognised
 * for as long as its admission is in the window. A refused message is not kept: it spent nothing,
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
   * @throws RangeError when `max` or `windowMs` is not a number ≥ 0
   */
  hit(scope: string, id: string, now: number, windowMs: number, max: number, message?: string): number
}

/**
 * Up to this many admitted messages of an id are kept in its scope's slab (a rate limit of a few
 * messages per sender is the common case); an id admitted more often within one window moves to a
 * ring of its own, which grows (doubling) up to `max`.
 */
const INLINE = 8

/** How many messages a slot of a scope whose limit is `max` holds. */
const capFor = (max: number) => Math.min(Math.max(Math.ceil(max), 1), INLINE)

/**
 * The windows of one scope, in one typed array (a slab of slots) instead of an object per id, so
 * that the windows of 200,000 senders are a few large arrays, which the garbage collector neither
 * traces nor promotes entry by entry (docs/policy.md, "Design notes", has the measurements). A
 * slot is `[start, count, t0 … t(cap-1), f0 … f(cap-1)]`: a ring of admitted times and, at the same
 * positions, their messages' fingerprints (-1: no identity). A count of -1 means the window moved
 * to a `BigRing` in `big`.
 */
class Scope {
  /** id → slot */
  ids = new Map<string, number>()
  cap: number
  stride: number
  slab: Float64Array
  /** Slots past the highest ever used are free; below it, `free` lists the released ones. */
  private used = 0
  private free: number[] = []
  /** Windows of ids that outgrew their slot, by slot. */
  big = new Map<number, BigRing>()

  constructor(
    public windowMs: number,
    public max: number,
  ) {
    this.cap = capFor(max)
    this.stride = 2 + 2 * this.cap
    this.slab = new Float64Array(this.stride * 64)
  }

  /** A new slot, empty. */
  take(): number {
    let slot = this.free.pop()
    if (slot === undefined) {
      slot = this.used++
      if ((slot + 1) * this.stride > this.slab.length) {
        const bigger = new Float64Array(this.slab.length * 2)
        bigger.set(this.slab)
        this.slab = bigger
      }
    }
    const base = slot * this.stride
    this.slab[base] = 0
    this.slab[base + 1] = 0
    return slot
  }

  release(slot: number): void {
    this.big.delete(slot)
    this.free.push(slot)
  }

  /** The newest admitted time in the slot, or -Infinity when none. */
  newest(slot: number): number {
    const base = slot * this.stride
    const n = this.slab[base + 1]!
    if (n < 0) return this.big.get(slot)!.newest()
    return n === 0 ? -Infinity : this.slab[base + 2 + ((this.slab[base]! + n - 1) % this.cap)]!
  }

  /** The admitted times and fingerprints of a slot, oldest first. */
  entries(slot: number): { times: number[]; prints: number[] } {
    const base = slot * this.stride
    const n = this.slab[base + 1]!
    if (n < 0) return this.big.get(slot)!.entries()
    const times: number[] = []
    const prints: number[] = []
    for (let k = 0; k < n; k++) {
      const at = (this.slab[base]! + k) % this.cap
      times.push(this.slab[base + 2 + at]!)
      prints.push(this.slab[base + 2 + this.cap + at]!)
    }
    return { times, prints }
  }

  /**
   * Lays the held windows out again, in slots of `cap` messages at the front of a slab sized for
   * them: after a sweep left the slab mostly empty, or when a reload changed the limit (a window
   * larger than the new slots gets a ring of its own). Every admitted time is kept.
   */
  rebuild(cap: number): void {
    let size = 64
    while (size < this.ids.size * 2) size *= 2
    const stride = 2 + 2 * cap
    const slab = new Float64Array(stride * size)
    const big = new Map<number, BigRing>()
    const ids = new Map<string, number>()
    let next = 0
    for (const [id, slot] of this.ids) {
      const { times, prints } = this.entries(slot)
      const base = next * stride
      if (times.length <= cap) {
        for (let k = 0; k < times.length; k++) {
          slab[base + 2 + k] = times[k]!
          slab[base + 2 + cap + k] = prints[k]!
        }
        slab[base + 1] = times.length
      } else {
        big.set(next, BigRing.of(times, prints))
        slab[base + 1] = -1
      }
      ids.set(id, next++)
    }
    this.ids = ids
    this.cap = cap
    this.stride = stride
    this.slab = slab
    this.big = big
    this.used = next
    this.free = []
  }

  /** Slots the slab has room for. */
  get capacity(): number {
    return this.slab.length / this.stride
  }
}

/**
 * The window of an id that outgrew its slot: admitted times and fingerprints in rings of their
 * own, grown by doubling up to `max`, plus a count of the fingerprints held by their low 30 bits,
 * so that a message that is no redelivery (nearly all) is told so without comparing it with every
 * message in the window.
 */
class BigRing {
  private times: Float64Array
  private prints: Float64Array
  private start = 0
  private n = 0
  private readonly held = new Map<number, number>() // low 30 bits of a fingerprint → how many

  private constructor(size: number) {
    this.times = new Float64Array(size)
    this.prints = new Float64Array(size)
  }

  /** A ring holding these entries (oldest first), with room for twice as many. */
  static of(times: readonly number[], prints: readonly number[]): BigRing {
    const r = new BigRing(Math.max(times.length * 2, 4))
    for (let k = 0; k < times.length; k++) r.push(times[k]!, prints[k]!)
    return r
  }

  /** `SlidingWindowStore.hit` for this window. */
  hit(now: number, windowMs: number, max: number, print: number): number {
    const size = this.times.length
    const from = now - windowMs
    while (this.n > 0 && this.times[this.start]! <= from) {
      const p = this.prints[this.start]!
      if (p >= 0) {
        const key = p % 0x40000000
        const c = this.held.get(key)!
        if (c === 1) this.held.delete(key)
        else this.held.set(key, c - 1)
      }
      this.start = this.start + 1 === size ? 0 : this.start + 1
      this.n--
    }
    if (print >= 0 && this.held.has(print % 0x40000000)) {
      for (let k = 0, at = this.start; k < this.n; k++, at = at + 1 === size ? 0 : at + 1) {
        if (this.prints[at] === print) return -1 // a redelivery: admitted, not counted again
      }
    }
    if (this.n >= max) return this.n
    this.push(now, print, max)
    return -1
  }

  private push(t: number, print: number, max = Infinity): void {
    let size = this.times.length
    if (this.n === size) {
      const grown = Math.max(Math.min(size * 2, Math.ceil(max)), size + 1)
      const times = new Float64Array(grown)
      const prints = new Float64Array(grown)
      for (let k = 0; k < this.n; k++) {
        const at = (this.start + k) % size
        times[k] = this.times[at]!
        prints[k] = this.prints[at]!
      }
      this.times = times
      this.prints = prints
      this.start = 0
      size = grown
    }
    let at = this.start + this.n
    if (at >= size) at -= size
    this.times[at] = t
    this.prints[at] = print
    this.n++
    if (print >= 0) {
      const key = print % 0x40000000
      this.held.set(key, (this.held.get(key) ?? 0) + 1)
    }
  }

  newest(): number {
    return this.n === 0 ? -Infinity : this.times[(this.start + this.n - 1) % this.times.length]!
  }

  entries(): { times: number[]; prints: number[] } {
    const times: number[] = []
    const prints: number[] = []
    for (let k = 0; k < this.n; k++) {
      const at = (this.start + k) % this.times.length
      times.push(this.times[at]!)
      prints.push(this.prints[at]!)
    }
    return { times, prints }
  }
}

/**
 * An exact sliding-window log per (scope, id), in memory. Memory is bounded by the traffic of the
 * last window: ids idle for longer than their window are swept when the number of ids doubles, and
 * a scope's slab shrinks when a sweep leaves it mostly empty.
 * @example
 * const store = new SlidingWindowStore()
 * store.hit('flood|sender', 'alice', Date.now(), 10_000, 5) // -1: admitted
 */
export class SlidingWindowStore implements RateStore {
  private readonly scopes = new Map<string, Scope>()
  private count = 0
  private sweepAt = 10_000
  // The last message fingerprinted: a message meets one rate condition after another.
  private lastMessage: string | undefined
  private lastPrint = -1

  hit(scope: string, id: string, now: number, windowMs: number, max: number, message?: string): number {
    if (!(max >= 0) || !(windowMs >= 0))
      throw new RangeError(`rate limit: max and windowMs must be numbers ≥ 0, got max ${String(max)}, windowMs ${String(windowMs)}`)
    let print = -1
    if (message !== undefined) {
      if (message !== this.lastMessage) {
        this.lastMessage = message
        this.lastPrint = fingerprint(message)
      }
      print = this.lastPrint
    }
    let sc = this.scopes.get(scope)
    if (sc === undefined) this.scopes.set(scope, (sc = new Scope(windowMs, max)))
    sc.windowMs = windowMs
    if (max !== sc.max) {
      // A reload changed the limit: slots sized for the new one.
      sc.max = max
      if (capFor(max) !== sc.cap) sc.rebuild(capFor(max))
    }
    let slot = sc.ids.get(id)
    if (slot === undefined) {
      if (this.count >= this.sweepAt) {
        this.sweep(now)
        if (this.scopes.get(scope) !== sc) this.scopes.set(scope, sc) // the sweep dropped it empty
      }
      slot = sc.take()
      sc.ids.set(id, slot)
      this.count++
    }
    const slab = sc.slab
    const base = slot * sc.stride
    if (slab[base + 1]! < 0) return sc.big.get(slot)!.hit(now, windowMs, max, print)
    const cap = sc.cap
    let start = slab[base]!
    let n = slab[base + 1]!
    const from = now - windowMs
    while (n > 0 && slab[base + 2 + start]! <= from) {
      start = start + 1 === cap ? 0 : start + 1
      n--
    }
    slab[base] = start
    slab[base + 1] = n
    if (print >= 0) {
      const prints = base + 2 + cap
      for (let k = 0, at = start; k < n; k++, at = at + 1 === cap ? 0 : at + 1) {
        if (slab[prints + at] === print) return -1 // a redelivery: admitted, not counted again
      }
    }
    if (n >= max) return n
    if (n === cap) {
      // Full but under max: the window moves to a ring of its own.
      const { times, prints } = sc.entries(slot)
      const ring = BigRing.of(times, prints)
      sc.big.set(slot, ring)
      slab[base + 1] = -1
      return ring.hit(now, windowMs, max, print)
    }
    let at = start + n
    if (at >= cap) at -= cap
    slab[base + 2 + at] = now
    slab[base + 2 + cap + at] = print
    slab[base + 1] = n + 1
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
      for (const [id, slot] of sc.ids) {
        if (sc.newest(slot) <= from) {
          sc.ids.delete(id)
          sc.release(slot)
          this.count--
        }
      }
      if (sc.ids.size === 0) this.scopes.delete(name)
      else if (sc.capacity > 256 && sc.ids.size * 4 < sc.capacity) sc.rebuild(sc.cap)
    }
    this.sweepAt = Math.max(10_000, this.count * 2)
  }
}

/**
 * A 53-bit fingerprint of a message identity (two 32-bit hashes in one pass, FNV-1a and a
 * multiplicative one, each finished with murmur3's fmix32), as a double: kept next to each
 * admitted time. Two messages of one id within one window share one with a probability of about
 * n × 2⁻⁵³.
 */
function fingerprint(message: string): number {
  let h = 0x811c9dc5
  let g = 0x9747b28c
  for (let i = 0; i < message.length; i++) {
    const c = message.charCodeAt(i)
    h = Math.imul(h ^ c, 0x01000193)
    g = Math.imul(g ^ c, 0x5bd1e995) ^ (g >>> 15)
  }
  return (fmix32(h) >>> 11) * 0x100000000 + (fmix32(g) >>> 0) // 21 + 32 bits
}

function fmix32(x: number): number {
  x ^= x >>> 16
  x = Math.imul(x, 0x85ebca6b)
  x ^= x >>> 13
  x = Math.imul(x, 0xc2b2ae35)
  return x ^ (x >>> 16)
}
