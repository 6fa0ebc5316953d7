/**
 * Turns a parsed `when` into a function of the message: the reason it holds, or null. Everything
 * that can be prepared at load (automata, regexes, sets) is; evaluation allocates only when a
 * condition holds (its reason) or when a mask rule collects what to replace.
 */
import { compileSafeRegex } from './compile-safe-regex.js'
import { FOLD_MULTI, FOLD_SAME, expansionOf, foldTable, foldWord, originalRange, type Folded } from './fold.js'
import { findLinks, hostAllowed } from './find-links.js'
import { KeywordAutomaton } from './keyword-automaton.js'
import type { RegexPrefilter } from './regex-prefilter.js'
import { fieldPath, type MessageView, type TextField } from './message-view.js'
import type { Field, ParsedCondition } from './policy-schema.js'
import type { RateStore } from './sliding-window.js'

/** A span of one text field (original indices) that a mask replaces. */
export interface Range {
  readonly field: number
  readonly start: number
  readonly end: number
}

/** The reason the condition holds, or null. With `ranges`, also collects every matched span. */
export type Condition = (view: MessageView, now: number, ranges: Range[] | null) => string | null

export interface CompileContext {
  /** The rule's name (rate-limit keys). */
  readonly rule: string
  readonly rateStore: RateStore
  /** id → expiry ms (Infinity: no expiry). */
  readonly mutedSenders: ReadonlyMap<string, number>
  readonly mutedGroups: ReadonlyMap<string, number>
  /** Reads a keywords file named in the policy (relative paths already resolved by the caller). */
  readFile(path: string): string
  /** The shared prefilter of regex rules with these flags that read the same text (folded or not). */
  regexPrefilter(flags: string, fold: boolean): RegexPrefilter
  /** Reports a problem at `path` (e.g. `rules[2].when.regex`). */
  issue(path: string, message: string): void
}

const NEVER: Condition = () => null
/** A value in a reason, as a JSON string (long values cut). */
const quote = (s: string) => JSON.stringify(s.length > 60 ? `${s.slice(0, 57)}…` : s)

/** True when the condition can say what to mask (keywords, regex or links, outside a `not`). */
export function canMask(c: ParsedCondition): boolean {
  return (
    c.keywords !== undefined ||
    c.regex !== undefined ||
    (c.links !== undefined && c.links !== false) ||
    (c.all ?? []).some(canMask) ||
    (c.any ?? []).some(canMask)
  )
}

export function compileCondition(c: ParsedCondition, path: string, ctx: CompileContext): Condition {
  const parts: Condition[] = []
  for (const key of Object.keys(c) as Array<keyof ParsedCondition>) {
    const at = `${path}.${key}`
    switch (key) {
      case 'always':
        parts.push(c.always === true ? () => 'always' : NEVER)
        break
      case 'keywords':
        parts.push(compileKeywords(c.keywords!, at, ctx))
        break
      case 'regex':
        parts.push(compileRegex(c.regex!, at, ctx))
        break
      case 'links':
        if (c.links !== false && c.links !== undefined) parts.push(compileLinks(c.links.allow.map(foldWord), c.links.fields ?? ['text']))
        else parts.push(NEVER)
        break
      case 'length':
        parts.push(compileLength(c.length!))
        break
      case 'rate':
        parts.push(compileRate(c.rate!, at, ctx))
        break
      case 'muted':
        parts.push(c.muted === false ? NEVER : compileMuted(c.muted!, ctx))
        break
      case 'all':
        parts.push(allOf(c.all!.map((x, i) => compileCondition(x, `${at}[${i}]`, ctx))))
        break
      case 'any':
        parts.push(anyOf(c.any!.map((x, i) => compileCondition(x, `${at}[${i}]`, ctx))))
        break
      case 'not': {
        const inner = compileCondition(c.not!, at, ctx)
        const said = `not ${Object.keys(c.not!).join(' and ')}`
        parts.push((view, now) => (inner(view, now, null) === null ? said : null))
        break
      }
    }
  }
  return parts.length === 1 ? parts[0]! : allOf(parts)
}

function allOf(parts: Condition[]): Condition {
  return (view, now, ranges) => {
    const mark = ranges?.length ?? 0
    let reason: string | null = null
    for (const part of parts) {
      const r = part(view, now, ranges)
      if (r === null) {
        if (ranges !== null) ranges.length = mark
        return null
      }
      reason = reason === null ? r : `${reason} and ${r}`
    }
    return reason
  }
}

function anyOf(parts: Condition[]): Condition {
  return (view, now, ranges) => {
    let reason: string | null = null
    for (const part of parts) {
      const r = part(view, now, ranges)
      if (r === null) continue
      if (ranges === null) return r // first that holds decides; a mask looks at every branch
      reason ??= r
    }
    return reason
  }
}

/** The first unit of the folding of a BMP code unit (0 when it folds to nothing). */
function foldedUnit(c: number): number {
  const v = foldTable()[c]!
  return v === FOLD_SAME ? c : v === FOLD_MULTI ? expansionOf(c).charCodeAt(0) || 0 : v
}

const isWordUnit = (c: number) => (c >= 48 && c <= 57) || (c >= 97 && c <= 122) || (c >= 0xdf && c <= 0x24f && c !== 0xf7)

function compileKeywords(k: NonNullable<ParsedCondition['keywords']>, path: string, ctx: CompileContext): Condition {
  const list: string[] = [...(k.words ?? [])]
  if (k.file !== undefined) {
    try {
      for (const line of ctx.readFile(k.file).split(/\r?\n/)) {
        const w = line.replace(/(^|\s)#.*$/, '').trim()
        if (w !== '') list.push(w)
      }
    } catch (err) {
      ctx.issue(`${path}.file`, `cannot read ${k.file}: ${(err as Error).message}`)
      return NEVER
    }
  }
  const folded = list.map(foldWord).filter((w) => w !== '')
  if (folded.length === 0) {
    ctx.issue(path, 'no keywords (give words and/or a file with at least one word)')
    return NEVER
  }
  const ac = new KeywordAutomaton(folded)
  const words = ac.words
  const fields = new Set<Field>(k.fields ?? ['text'])
  const whole = k.wholeWords === true
  // Scan state shared by the one callback (decide is synchronous, so there is no interleaving).
  let text = ''
  let found = -1
  let collect: Range[] | null = null
  let field = -1
  const onKeyword = (w: number, start: number, end: number): boolean => {
    if (whole) {
      const word = words[w]!
      if (isWordUnit(word.charCodeAt(0)) && start > 0 && isWordUnit(foldedUnit(text.charCodeAt(start - 1)))) return false
      if (isWordUnit(word.charCodeAt(word.length - 1)) && end < text.length && isWordUnit(foldedUnit(text.charCodeAt(end)))) return false
    }
    if (found === -1) found = w
    if (collect === null) return true
    collect.push({ field, start, end })
    return false
  }
  return (view, _now, ranges) => {
    const all = view.fields()
    let reason: string | null = null
    for (let i = 0; i < all.length; i++) {
      if (!fields.has(all[i]!.kind)) continue
      text = all[i]!.text
      found = -1
      collect = ranges
      field = i
      ac.scanFolding(text, onKeyword)
      if (found !== -1) {
        reason ??= `keyword ${quote(words[found]!)} in ${fieldPath(all[i]!)}`
        if (ranges === null) break
      }
    }
    collect = null
    text = ''
    return reason
  }
}

function compileRegex(r: NonNullable<ParsedCondition['regex']>, path: string, ctx: CompileContext): Condition {
  const compiled = compileSafeRegex(r.pattern, r.flags ?? '')
  if (typeof compiled === 'string') {
    // The path gives the rule's index; a named rule is named too (an unnamed one is called by its path).
    const named = path.startsWith(`${ctx.rule}.`) ? '' : `rule ${JSON.stringify(ctx.rule)}: `
    ctx.issue(`${path}${compiled.startsWith('flag') ? '.flags' : ''}`, `${named}${quote(r.pattern)} ${compiled}`)
    return NEVER
  }
  const fields = new Set<Field>(r.fields ?? ['text'])
  const fold = r.fold === true
  const shown = `/${r.pattern}/`
  const prefilter = ctx.regexPrefilter(compiled.test.flags, fold)
  prefilter.add(r.pattern)
  return (view, _now, ranges) => {
    const all = view.fields()
    let reason: string | null = null
    for (let i = 0; i < all.length; i++) {
      const f = all[i]!
      if (!fields.has(f.kind)) continue
      const folded = fold ? view.folded(i) : null
      const text = folded === null ? f.text : folded.text
      if (!prefilter.maybe(view, i, text)) continue
      if (ranges === null) {
        const m = compiled.test.exec(text)
        if (m !== null) return `regex ${shown} matched ${quote(m[0])} in ${fieldPath(f)}`
        continue
      }
      const re = compiled.all
      re.lastIndex = 0
      for (let m = re.exec(text); m !== null; m = re.exec(text)) {
        if (m[0].length === 0) {
          re.lastIndex++
          continue
        }
        reason ??= `regex ${shown} matched ${quote(m[0])} in ${fieldPath(f)}`
        const [s, e] = folded === null ? [m.index, m.index + m[0].length] : originalRange(folded, m.index, m.index + m[0].length)
        ranges.push({ field: i, start: s, end: e })
      }
    }
    return reason
  }
}

function compileLinks(allow: readonly string[], fieldList: readonly Field[]): Condition {
  const fields = new Set<Field>(fieldList)
  let found: string | null = null
  let collect: Range[] | null = null
  let folding: Folded | null = null
  let field = -1
  const onLink = (start: number, end: number, host: string): boolean => {
    if (allow.length > 0 && hostAllowed(host, allow)) return false
    found ??= host
    if (collect === null) return true
    const [s, e] = originalRange(folding!, start, end)
    collect.push({ field, start: s, end: e })
    return false
  }
  return (view, _now, ranges) => {
    const all: readonly TextField[] = view.fields()
    let reason: string | null = null
    for (let i = 0; i < all.length; i++) {
      if (!fields.has(all[i]!.kind)) continue
      folding = view.folded(i)
      found = null
      collect = ranges
      field = i
      findLinks(folding.text, onLink)
      if (found !== null) {
        reason ??= `link to ${quote(found)} in ${fieldPath(all[i]!)}`
        if (ranges === null) break
      }
    }
    collect = null
    folding = null
    return reason
  }
}

function compileLength({ max, min }: { max?: number; min?: number }): Condition {
  return (view) => {
    const n = view.textLength()
    if (max !== undefined && n > max) return `text is ${n} characters (max ${max})`
    if (min !== undefined && n < min) return `text is ${n} characters (min ${min})`
    return null
  }
}

function compileRate(
  { per, max, windowMs }: { per: 'sender' | 'group'; max: number; windowMs: number },
  path: string,
  ctx: CompileContext,
): Condition {
  // One window per rate condition: by rule name (so that windows survive a reload that moves the
  // rule) and, when the rule has several, by where the condition sits in its `when`.
  const within = path.replace(/^rules\[\d+\]\.when\.?/, '')
  const scope = within === 'rate' ? `${ctx.rule}|${per}` : `${ctx.rule}|${within}|${per}`
  const window = windowMs % 1000 === 0 ? `${windowMs / 1000}s` : `${windowMs}ms`
  return (view, now) => {
    const id = per === 'sender' ? view.sender : view.groupId
    if (id === undefined) return null // per group on a one-to-one message: nothing to count
    const seen = ctx.rateStore.hit(scope, id, now, windowMs, max, view.messageKey())
    return seen < 0 ? null : `rate: ${per} ${quote(id)} already sent ${seen} messages within ${window} (max ${max})`
  }
}

function compileMuted(which: 'sender' | 'group' | 'both', ctx: CompileContext): Condition {
  const until = (ms: number) => (ms === Infinity ? 'with no expiry' : `until ${new Date(ms).toISOString()}`)
  return (view, now) => {
    if (which !== 'group') {
      const exp = ctx.mutedSenders.get(view.sender)
      if (exp !== undefined && now < exp) return `sender ${quote(view.sender)} is muted ${until(exp)}`
    }
    if (which !== 'sender' && view.groupId !== undefined) {
      const exp = ctx.mutedGroups.get(view.groupId)
      if (exp !== undefined && now < exp) return `group ${quote(view.groupId)} is muted ${until(exp)}`
    }
    return null
  }
}
