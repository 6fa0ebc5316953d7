/**
 * Regular expressions from a rules file run on V8's backtracking engine (fast: ~100 ns per rule
 * on a chat message), so a pattern that could backtrack super-linearly is refused at load instead.
 * scslre analyses the pattern's NFA for exponential and polynomial backtracking (the same analysis
 * as eslint-plugin-regexp's no-super-linear-backtracking); backreferences, which no such analysis
 * covers, are refused too. Why not RE2: re2-wasm costs ~4 µs per call plus ~40 ns per character,
 * 50× V8 on typical messages (measured, see docs/policy.md).
 */
import { RegExpParser, visitRegExpAST, type AST } from '@eslint-community/regexpp'
import { analyse } from 'scslre'

/**
 * Flags a rule may set; `g`/`y` are managed by the policy. `u` is not forced: V8 runs `iu`
 * patterns about 7× slower than `i` ones (measured, docs/policy.md), and CJK ranges such as
 * `[\u4e00-\u9fff]` need no `u`.
 */
export const ALLOWED_REGEX_FLAGS = 'imsu'

/** A compiled pattern: `test` for conditions, `all` (global) for masking. */
export interface SafeRegex {
  readonly source: string
  readonly test: RegExp
  readonly all: RegExp
}

const cache = new Map<string, SafeRegex | string>()

/**
 * Compiles `pattern` when it is safe; returns the problem as a sentence otherwise.
 * Results are cached, so a reload re-checks only patterns that changed.
 * @example
 * compileSafeRegex('1[3-9]\\d{9}', '')  // { source, test: /1[3-9]\d{9}/, all: /1[3-9]\d{9}/g }
 * compileSafeRegex('(a+)+$', '')        // 'can backtrack catastrophically (exponential) …'
 */
export function compileSafeRegex(pattern: string, flags: string): SafeRegex | string {
  const key = `${flags}/${pattern}`
  let result = cache.get(key)
  if (result === undefined) {
    result = check(pattern, flags)
    if (cache.size > 10_000) cache.clear()
    cache.set(key, result)
  }
  return result
}

/**
 * scslre does not look inside lookarounds, and V8 re-runs a lookaround at every position it is
 * tried: `(?<=(?:a|aa)+)b` or `(?<=a+)b` is quadratic, `(?=(?:a|aa)+c)` exponential. So inside
 * `(?=…)`, `(?!…)`, `(?<=…)`, `(?<!…)` only bounded quantifiers of one character (or class) are
 * allowed: `(?<=\d{1,3})` yes; `(?<=a+)`, `(?<=(?:ab){2})` no.
 */
function riskyLookaround(literal: AST.RegExpLiteral): string | undefined {
  let problem: string | undefined
  let depth = 0
  visitRegExpAST(literal, {
    onAssertionEnter(node) {
      if (node.kind === 'lookahead' || node.kind === 'lookbehind') depth++
    },
    onAssertionLeave(node) {
      if (node.kind === 'lookahead' || node.kind === 'lookbehind') depth--
    },
    onQuantifierEnter(node) {
      if (depth === 0 || problem !== undefined) return
      const single = node.element.type === 'Character' || node.element.type === 'CharacterSet' || node.element.type === 'CharacterClass'
      if (node.max === Infinity) problem = `the unbounded quantifier ${node.raw} inside a lookaround`
      else if (!single) problem = `the quantified group ${node.raw} inside a lookaround`
    },
  })
  return problem === undefined
    ? undefined
    : `can backtrack catastrophically (a lookaround is re-run at every position, and the backtracking analysis does not cover it): ${problem}; ` +
        'inside (?=…), (?!…), (?<=…), (?<!…) only bounded quantifiers of a single character or class are allowed, e.g. (?<=\\d{1,3})'
}

function check(pattern: string, flags: string): SafeRegex | string {
  for (const f of flags)
    if (!ALLOWED_REGEX_FLAGS.includes(f)) return `flag "${f}" is not allowed (allowed: ${ALLOWED_REGEX_FLAGS.split('').join(', ')})`
  const unique = [...new Set(flags)].join('')
  let re: RegExp
  try {
    re = new RegExp(pattern, unique)
  } catch (err) {
    return `is not a valid regular expression: ${(err as Error).message}`
  }
  const literal = new RegExpParser({ ecmaVersion: 2022 }).parseLiteral(re.toString())
  let backreference: string | undefined
  visitRegExpAST(literal, {
    onBackreferenceEnter(node) {
      backreference ??= node.raw
    },
  })
  if (backreference !== undefined)
    return `uses the backreference ${backreference}, which can take exponential time; backreferences are not allowed`
  const lookaround = riskyLookaround(literal)
  if (lookaround !== undefined) return lookaround
  const reports = analyse(literal, { reportTypes: { Move: true, Self: true, Trade: true } }).reports
  if (reports.length > 0) {
    const r = reports.find((x) => x.exponential) ?? reports[0]!
    const pick = r.character.literal.source
    const where = r.type === 'Trade' ? `${r.startQuant.raw} and ${r.endQuant.raw}` : r.quant.raw
    const kind = r.exponential ? 'exponential' : 'polynomial'
    return (
      `can backtrack catastrophically (${kind} time on input like many repetitions of /${pick}/): the quantifier ${where} overlaps ` +
      (r.type === 'Move'
        ? 'the search for a start position (anchor the pattern or remove the leading quantifier)'
        : r.type === 'Self'
          ? 'itself (nested quantifiers)'
          : 'another quantifier that can match the same characters') +
      '; rewrite it so each character can be matched in only one way'
    )
  }
  if (re.test('')) return 'matches the empty string, so it would match every message'
  return { source: pattern, test: re, all: new RegExp(pattern, unique + 'g') }
}
