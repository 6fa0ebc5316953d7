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
/** Table values: */
export const FOLD_SAME = SAME
export const FOLD_MULTI = MULTI
const expansions = new Map<number, string>()
const astral = new Map<number, string>()

/** Built on first use (≈ 12 ms): one NFKC + lower-case per BMP code unit. Small, so that V8 inlines it into the scan loops. */
export function foldTable(): Uint16Array {
  return table ?? buildFoldTable()
}

function buildFoldTable(): Uint16Array {
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

export function foldAstral(cp: number): string {
  let f = astral.get(cp)
  if (f === undefined) {
    f = String.fromCodePoint(cp).normalize('NFKC').toLowerCase()
    if (astral.size < 4096) astral.set(cp, f)
  }
  return f
}

let units = new Uint16Array(1024) // scratch for the folded text (decide is synchronous: one user at a time)
let origin = new Int32Array(1025) // scratch: folded index → original index

/**
 * Folds `text`. Text that folding leaves unchanged (plain lower-case ASCII, most CJK) is returned
 * as is, without allocating; text whose folding is one unit for one unit (upper case, full-width
 * letters and punctuation) needs no index map.
 * @example foldText('Ｂｕｙ ＮＯＷ') // { text: 'buy now', map: null }
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
  if (units.length < n * 2 + 8) {
    units = new Uint16Array(n * 2 + 8)
    origin = new Int32Array(n * 2 + 9)
  }
  let len = 0
  let exact = true // one folded unit per original unit, in place: no map needed
  for (let k = 0; k < i; k++) {
    units[len] = text.charCodeAt(k)
    origin[len++] = k
  }
  for (; i < n; i++) {
    const c = text.charCodeAt(i)
    const v = t[c]!
    if (v === SAME && !(c >= 0xd800 && c <= 0xdbff)) {
      units[len] = c
      origin[len++] = i
      continue
    }
    if (v !== SAME && v !== MULTI) {
      units[len] = v
      origin[len++] = i
      continue
    }
    let f: string
    let width = 1
    if (v === SAME) {
      // A high surrogate: fold the pair (styled letters such as 𝐁 are outside the BMP).
      const d = i + 1 < n ? text.charCodeAt(i + 1) : 0
      if (d < 0xdc00 || d > 0xdfff) {
        units[len] = c
        origin[len++] = i
        continue
      }
      f = foldAstral(((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000)
      width = 2
    } else f = expansions.get(c)!
    // In place only when a unit folds to a unit and a pair to a pair (U+1F14A → "hv" is two units, not one character).
    if (f.length !== width || (width === 2 && (f.charCodeAt(0) & 0xfc00) !== 0xd800)) exact = false
    if (len + f.length + 2 > units.length) {
      const grown = new Uint16Array(units.length * 2 + f.length)
      grown.set(units)
      units = grown
      const grownOrigin = new Int32Array(grown.length + 1)
      grownOrigin.set(origin)
      origin = grownOrigin
    }
    for (let k = 0; k < f.length; k++) {
      units[len] = f.charCodeAt(k)
      origin[len++] = exact ? i + k : i
    }
    i += width - 1
  }
  origin[len] = n // the end maps to the end
  let out = ''
  for (let at = 0; at < len; at += 8192)
    out += String.fromCharCode.apply(null, units.subarray(at, Math.min(len, at + 8192)) as unknown as number[])
  return { text: out, map: exact ? null : origin.slice(0, len + 1) }
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
  if (m === null) {
    // Unit for unit, so pairs sit where they sat in the original: widen a range that splits one
    // (a mask must not leave half a character, e.g. U+10D50 folds to U+10D70, another pair).
    const t = folded.text
    const low = (i: number) => i > 0 && i < t.length && (t.charCodeAt(i) & 0xfc00) === 0xdc00 && (t.charCodeAt(i - 1) & 0xfc00) === 0xd800
    return [low(fs) ? fs - 1 : fs, low(fe) ? fe + 1 : fe]
  }
  // The end of the original character behind the last folded unit: the next origin after it (one
  // character can fold to several units, e.g. U+1F110 → "(a)", and can be a surrogate pair).
  const last = m[fe - 1]!
  let k = fe
  while (m[k]! <= last) k++
  return [m[fs]!, m[k]!]
}

/** The folding of a code unit whose table value is FOLD_MULTI: zero or several units. */
export function expansionOf(unit: number): string {
  return expansions.get(unit) ?? ''
}
