/**
 * Remembers keys for a fixed window, as IM does for resent messages: a group `Random` for 5 minutes,
 * a one-to-one (sender, MsgSeq, MsgRandom, content) for 120 s (the send_group_msg and sendmsg pages).
 * Entries expire in insertion order, so pruning looks only at the oldest ones.
 * @example
 * const seen = new DedupWindow<number>(300_000, Date.now)
 * seen.remember('g1:123', 7); seen.recall('g1:123') // 7
 */
export class DedupWindow<V> {
  readonly #entries = new Map<string, { expires: number; value: V }>()

  constructor(
    readonly windowMs: number,
    readonly now: () => number,
  ) {}

  /** The value remembered under `key`, when still inside the window. */
  recall(key: string): V | undefined {
    this.#prune()
    return this.#entries.get(key)?.value
  }

  remember(key: string, value: V): void {
    this.#prune()
    this.#entries.delete(key)
    this.#entries.set(key, { expires: this.now() + this.windowMs, value })
  }

  /** Drops `key`, only while it still holds `value` (a later send may have taken the key since). */
  forget(key: string, value: V): void {
    if (this.#entries.get(key)?.value === value) this.#entries.delete(key)
  }

  get size(): number {
    return this.#entries.size
  }

  #prune(): void {
    const t = this.now()
    for (const [key, entry] of this.#entries) {
      if (entry.expires > t) break
      this.#entries.delete(key)
    }
  }
}
