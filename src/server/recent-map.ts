/**
 * A bounded map of the most recent entries (first in, first out), made for the before-send hot
 * path: remembering decisions by idempotency key so that a redelivery is answered the same.
 *
 * Why not a `Map` plus a ring of keys: in the server, between two callbacks, the HTTP stack evicts
 * the caches, and a `Map<string, …>` lookup then touches several scattered objects (its table, the
 * stored key string to read its hash and compare it, the evicted key on delete). On this project's
 * VM that was ~5 µs per before-send against ~1 µs with warm caches (docs/policy.md). Here the index
 * is one typed array of 32-bit hashes and ring slots (open addressing, linear probing), so a miss
 * touches one or two cache lines; stored keys are compared only when their hash matches.
 */

export class RecentMap<V> {
  readonly capacity: number
  private readonly index: Int32Array // slot + 1, or 0 when free
  private readonly mask: number
  private readonly hashes: Int32Array // by slot
  private readonly keys: Array<string | undefined>
  private readonly values: Array<V | undefined>
  private next = 0 // the slot written next (the oldest, once full)
  private count = 0

  /** @param capacity how many entries are kept (at least 1); adding one more forgets the oldest. */
  constructor(capacity: number) {
    this.capacity = Math.max(1, Math.trunc(capacity))
    let size = 8
    while (size < this.capacity * 2) size *= 2 // load ≤ 0.5: short probe runs
    this.index = new Int32Array(size)
    this.mask = size - 1
    this.hashes = new Int32Array(this.capacity)
    this.keys = new Array<string | undefined>(this.capacity).fill(undefined)
    this.values = new Array<V | undefined>(this.capacity).fill(undefined)
  }

  get size(): number {
    return this.count
  }

  get(key: string): V | undefined {
    const h = hashOf(key)
    for (let i = h & this.mask; ; i = (i + 1) & this.mask) {
      const s = this.index[i]!
      if (s === 0) return undefined
      if (this.hashes[s - 1] === h && this.keys[s - 1] === key) return this.values[s - 1]
    }
  }

  /** Adds an entry (the key must not be present: call `get` first); forgets the oldest when full. */
  add(key: string, value: V): void {
    const slot = this.next
    if (this.count === this.capacity) this.unindex(slot)
    else this.count++
    const h = hashOf(key)
    this.hashes[slot] = h
    this.keys[slot] = key
    this.values[slot] = value
    let i = h & this.mask
    while (this.index[i] !== 0) i = (i + 1) & this.mask
    this.index[i] = slot + 1
    this.next = slot + 1 === this.capacity ? 0 : slot + 1
  }

  /** Removes the slot's entry from the index: backward-shift deletion keeps every probe run unbroken. */
  private unindex(slot: number): void {
    const mask = this.mask
    let i = this.hashes[slot]! & mask
    while (this.index[i] !== slot + 1) i = (i + 1) & mask
    for (let j = (i + 1) & mask; this.index[j] !== 0; j = (j + 1) & mask) {
      const home = this.hashes[this.index[j]! - 1]! & mask
      // The entry at j may move back to i only if its home is not in the cyclic range (i, j].
      if (((j - home) & mask) >= ((j - i) & mask)) {
        this.index[i] = this.index[j]!
        i = j
      }
    }
    this.index[i] = 0
    this.keys[slot] = undefined
    this.values[slot] = undefined
  }
}

/** FNV-1a over UTF-16 code units, then a final mix so that low bits (the probe start) vary. */
function hashOf(key: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193)
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  return h ^ (h >>> 13)
}
