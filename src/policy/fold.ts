/**
 * Folding for keyword and link matching: NFKC compatibility mapping (full-width → half-width,
 * ligatures, circled and styled letters), lower case, and removal of invisible characters that
 * spammers slip between letters (zero-width space/joiners, soft hyphen, BOM). Folding is per
 * character so every folded position maps back to the original text, which masking needs.
 */

/** Folded text, and for each folded code unit the index of the original code unit it came from. */
export interface Folded {
  readonly text: string
  /** `null` when folding changed nothing (then folded and original indices are the same). */
  readonly map: Int32Array | null
}

const SAME = 0xffff // table value: the code unit folds to itself
const MULTI = 0xfffe // table value: look the code unit up in `expansions` (zero or several units)
const INVISIBLE = [0x00ad, 0x034f, 0x180e, 0x200b, 0x200c, 0x200d, 0x2060, 0xfeff]

let table: Uint16Array | undefined
const expansions = new Map<number, string>()
const astral = new Map<number, string>()

/** Built on first use (≈ 12 ms): one NFKC + lower-case per BMP code unit. */
function foldTable(): Uint16Array {
  if (table !== undefined) return table
  const t = new Uint16Array(65536).fill(SAME)
  for (let c = 0; c < 65536; c++) {
    if (c >= 0xd800 && c <= 0xdfff) continue // surrogates: handled in pairs by foldText
    const s = String.fromCharCode(c)
    const f = s.normalize('NFKC').toLowerCase()
    if (f === s) continue
    if (f.length === 1 && f.charCodeAt(0) < MULTI) t[c] = f.charCodeAt(0)
    else {
      t[c] = MULTI
      expansions.set(c, f)
    }
  }
  for (const c of INVISIBLE) {
    t[c] = MULTI
    expansions.set(c, '')
  }
  table = t
  return t
}

function foldAstral(cp: number): string {
  let f = astral.get(cp)
  if (f === undefined) {
    f = String.fromCodePoint(cp).normalize('NFKC').toLowerCase()
    if (astral.size < 4096) astral.set(cp, f)
  }
  return f
}

/**
 * Folds `text`. Text that folding leaves unchanged (plain lower-case ASCII, most CJK) is returned
 * as is, without allocating.
 * @example foldText('Ｂｕｙ ＮＯＷ') // { text: 'buy now', map: Int32Array [0, 1, 2, 3, 4, 5, 6, 7] }
 */
export function foldText(text: string): Folded {
  const t = foldTable()
  const n = text.length
  let i = 0
  for (; i < n; i++) {
    const c = text.charCodeAt(i)
    if (t[c] !== SAME || (c >= 0xd800 && c <= 0xdbff)) break
  }
  if (i === n) return { text, map: null }
  // Slow path from the first unit that changes: build the folded string and its index map.
  let out = text.slice(0, i)
  const map: number[] = []
  for (let k = 0; k < i; k++) map.push(k)
  for (; i < n; i++) {
    const c = text.charCodeAt(i)
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
      const d = text.charCodeAt(i + 1)
      if (d >= 0xdc00 && d <= 0xdfff) {
        const f = foldAstral(((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000)
        out += f
        for (let k = 0; k < f.length; k++) map.push(i)
        i++
        continue
      }
    }
    const v = t[c]!
    if (v === SAME) {
      out += text[i]
      map.push(i)
    } else if (v !== MULTI) {
      out += String.fromCharCode(v)
      map.push(i)
    } else {
      const f = expansions.get(c)!
      out += f
      for (let k = 0; k < f.length; k++) map.push(i)
    }
  }
  map.push(n) // the end maps to the end
  return { text: out, map: Int32Array.from(map) }
}

/** Folds a keyword the same way as the text it is looked for in. */
export function foldWord(word: string): string {
  return foldText(word).text
}

/**
 * The original range `[start, end)` that the folded range `[fs, fe)` came from. A match that ends
 * inside a character's expansion covers the whole character.
 */
export function originalRange(folded: Folded, fs: number, fe: number): [number, number] {
  const m = folded.map
  if (m === null) return [fs, fe]
  return [m[fs]!, Math.max(m[fe]!, m[fe - 1]! + 1)]
}
