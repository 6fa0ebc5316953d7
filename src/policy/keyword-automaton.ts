/**
 * An Aho–Corasick automaton over UTF-16 code units: one pass over the text finds every keyword,
 * whatever the number of keywords. Built once per policy load; the tables are typed arrays so a
 * scan allocates nothing until it reports a match.
 */

/** Called for each keyword found: its index in the list, and its `[start, end)` in the text. Return true to stop. */
export type OnKeyword = (word: number, start: number, end: number) => boolean | void

import { expansionOf, foldAstral, foldTable } from './fold.js'

const NONE = -1
// fold.ts table values, copied as literals: the scan loop reads them per character.
const FOLD_SAME = 0xffff
const FOLD_MULTI = 0xfffe

export class KeywordAutomaton {
  /** The keywords as given (already folded by the caller), deduplicated. */
  readonly words: readonly string[]
  private readonly root: Int32Array // dense goto for the root: code unit → node
  private readonly edgeStart: Int32Array // node → first edge (CSR); edges of node n are [edgeStart[n], edgeStart[n+1])
  private readonly edgeUnit: Uint16Array
  private readonly edgeTarget: Int32Array
  private readonly fail: Int32Array
  private readonly output: Int32Array // node → word ending here, or NONE
  private readonly dictLink: Int32Array // node → nearest node on the fail chain with an output, or NONE
  private readonly length: Int32Array // word → length in code units
  private readonly ringMask: number // ring of the origins of the last folded units, ≥ longest word
  private readonly ring: Int32Array

  /**
   * @example
   * const ac = new KeywordAutomaton(['buy now', '免费领取'])
   * ac.scan('请免费领取', (w, s, e) => console.log(ac.words[w], s, e)) // 免费领取 1 5
   */
  constructor(words: Iterable<string>) {
    const unique = [...new Set(words)].filter((w) => w.length > 0)
    this.words = unique
    // Build the trie with one map keyed by node × 65536 + unit (fast for wide CJK fan-out).
    const child = new Map<number, number>()
    const kids: number[][] = [[]]
    const out: number[] = [NONE]
    for (let w = 0; w < unique.length; w++) {
      const word = unique[w]!
      let node = 0
      for (let i = 0; i < word.length; i++) {
        const key = node * 65536 + word.charCodeAt(i)
        let next = child.get(key)
        if (next === undefined) {
          next = kids.length
          kids.push([])
          out.push(NONE)
          child.set(key, next)
          kids[node]!.push(word.charCodeAt(i))
        }
        node = next
      }
      out[node] = w
    }
    const n = kids.length
    this.length = Int32Array.from(unique, (w) => w.length)
    let ringSize = 2
    for (const w of unique) while (ringSize <= w.length) ringSize *= 2
    this.ringMask = ringSize - 1
    this.ring = new Int32Array(ringSize)
    this.output = Int32Array.from(out)
    this.edgeStart = new Int32Array(n + 1)
    let total = 0
    for (let i = 0; i < n; i++) {
      this.edgeStart[i] = total
      total += kids[i]!.length
    }
    this.edgeStart[n] = total
    this.edgeUnit = new Uint16Array(total)
    this.edgeTarget = new Int32Array(total)
    for (let i = 0; i < n; i++) {
      const units = kids[i]!.sort((a, b) => a - b)
      let e = this.edgeStart[i]!
      for (const u of units) {
        this.edgeUnit[e] = u
        this.edgeTarget[e++] = child.get(i * 65536 + u)!
      }
    }
    this.root = new Int32Array(65536).fill(0)
    for (let e = this.edgeStart[0]!; e < this.edgeStart[1]!; e++) this.root[this.edgeUnit[e]!] = this.edgeTarget[e]!
    // Failure and dictionary links, breadth first.
    this.fail = new Int32Array(n)
    this.dictLink = new Int32Array(n).fill(NONE)
    const queue = new Int32Array(n)
    let head = 0
    let tail = 0
    for (let e = this.edgeStart[0]!; e < this.edgeStart[1]!; e++) queue[tail++] = this.edgeTarget[e]!
    while (head < tail) {
      const node = queue[head++]!
      for (let e = this.edgeStart[node]!; e < this.edgeStart[node + 1]!; e++) {
        const unit = this.edgeUnit[e]!
        const next = this.edgeTarget[e]!
        let f = this.fail[node]!
        let target = this.step(f, unit)
        while (target === NONE && f !== 0) {
          f = this.fail[f]!
          target = this.step(f, unit)
        }
        const fl = target === NONE || target === next ? 0 : target
        this.fail[next] = fl
        this.dictLink[next] = this.output[fl] !== NONE ? fl : this.dictLink[fl]!
        queue[tail++] = next
      }
    }
  }

  /** The node reached from `node` by `unit`, or NONE (no failure links followed). */
  private step(node: number, unit: number): number {
    if (node === 0) {
      const r = this.root[unit]!
      return r === 0 ? NONE : r
    }
    let lo = this.edgeStart[node]!
    let hi = this.edgeStart[node + 1]! - 1
    const units = this.edgeUnit
    if (hi - lo < 8) {
      for (; lo <= hi; lo++) if (units[lo] === unit) return this.edgeTarget[lo]!
      return NONE
    }
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1
      const u = units[mid]!
      if (u === unit) return this.edgeTarget[mid]!
      if (u < unit) lo = mid + 1
      else hi = mid - 1
    }
    return NONE
  }

  /** Number of trie nodes (for diagnostics and the benchmark). */
  get size(): number {
    return this.fail.length
  }

  /**
   * Reports every occurrence (overlapping ones too) in one left-to-right pass; stops early when
   * `onKeyword` returns true. Returns true when it was stopped.
   */
  scan(text: string, onKeyword: OnKeyword): boolean {
    if (this.words.length === 0) return false
    const fail = this.fail
    const output = this.output
    const dictLink = this.dictLink
    let node = 0
    for (let i = 0; i < text.length; i++) {
      const unit = text.charCodeAt(i)
      let next = this.step(node, unit)
      while (next === NONE && node !== 0) {
        node = fail[node]!
        next = this.step(node, unit)
      }
      node = next === NONE ? 0 : next
      let hit = output[node] !== NONE ? node : dictLink[node]!
      while (hit !== NONE) {
        const w = output[hit]!
        if (onKeyword(w, i + 1 - this.length[w]!, i + 1) === true) return true
        hit = dictLink[hit]!
      }
    }
    return false
  }

  /**
   * Like scan, over the folding of `text` (see fold.ts) computed on the fly: no folded copy is
   * built. Reported ranges are in `text` (the original), covering whole characters.
   */
  scanFolding(text: string, onKeyword: OnKeyword): boolean {
    if (this.words.length === 0) return false
    const table = foldTable()
    const ring = this.ring
    const mask = this.ringMask
    const fail = this.fail
    const output = this.output
    const dictLink = this.dictLink
    let node = 0
    let pos = 0 // folded position
    const n = text.length
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i)
      const v = table[c]!
      if (v !== FOLD_MULTI && (c < 0xd800 || c > 0xdbff)) {
        // The common case, inlined: one folded unit for one original unit.
        const unit = v === FOLD_SAME ? c : v
        ring[pos & mask] = i
        let next = this.step(node, unit)
        while (next === NONE && node !== 0) {
          node = fail[node]!
          next = this.step(node, unit)
        }
        node = next === NONE ? 0 : next
        if ((output[node] !== NONE || dictLink[node] !== NONE) && this.report(node, pos, i + 1, onKeyword)) return true
        pos++
        continue
      }
      let f: string
      let width = 1
      if (v === FOLD_MULTI) f = expansionOf(c)
      else {
        const d = i + 1 < n ? text.charCodeAt(i + 1) : 0
        if (d >= 0xdc00 && d <= 0xdfff) {
          f = foldAstral(((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000)
          width = 2
        } else f = text[i]!
      }
      for (let k = 0; k < f.length; k++) {
        ring[pos & mask] = i
        node = this.advance(node, f.charCodeAt(k))
        if (this.report(node, pos++, i + width, onKeyword)) return true
      }
      i += width - 1
    }
    return false
  }

  private advance(node: number, unit: number): number {
    let next = this.step(node, unit)
    while (next === NONE && node !== 0) {
      node = this.fail[node]!
      next = this.step(node, unit)
    }
    return next === NONE ? 0 : next
  }

  private report(node: number, pos: number, end: number, onKeyword: OnKeyword): boolean {
    let hit = this.output[node] !== NONE ? node : this.dictLink[node]!
    while (hit !== NONE) {
      const w = this.output[hit]!
      if (onKeyword(w, this.ring[(pos + 1 - this.length[w]!) & this.ringMask]!, end) === true) return true
      hit = this.dictLink[hit]!
    }
    return false
  }
}
