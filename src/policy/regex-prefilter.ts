/**
 * One combined test for all the regex rules of a policy that read the same text (same flags,
 * folded or not): V8 scans the text once for `(?:p1)|(?:p2)|…` instead of once per rule, and when
 * nothing matches (most messages) every one of those rules is skipped. Each pattern was checked
 * alone at load; an alternation of linear patterns is linear (at each position it tries each
 * alternative once, which is what the separate scans did).
 */
import type { MessageView } from './message-view.js'

export class RegexPrefilter {
  private readonly sources: string[] = []
  private combined: RegExp | null = null
  // Memo for the message being decided: per field, 0 unknown, 1 some pattern matches, 2 none.
  private view: MessageView | null = null
  private version = -1
  private readonly memo = new Int8Array(32)

  constructor(private readonly flags: string) {}

  add(source: string): void {
    this.sources.push(source)
  }

  /** Builds the combined pattern once every rule has been added. */
  finish(): void {
    if (this.sources.length < 2) return
    try {
      this.combined = new RegExp(this.sources.map((s) => `(?:${s})`).join('|'), this.flags)
    } catch {
      this.combined = null // e.g. the same named group in two patterns: test each rule alone
    }
  }

  /** False when no pattern of the group can match `text` (field `field` of `view`). */
  maybe(view: MessageView, field: number, text: string): boolean {
    const re = this.combined
    if (re === null) return true
    if (field >= this.memo.length) return re.test(text)
    if (view !== this.view || view.version !== this.version) {
      this.view = view
      this.version = view.version
      this.memo.fill(0)
    }
    let m = this.memo[field]!
    if (m === 0) {
      m = re.test(text) ? 1 : 2
      this.memo[field] = m
    }
    return m === 1
  }
}
