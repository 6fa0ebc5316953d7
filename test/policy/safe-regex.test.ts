import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { compileSafeRegex } from '../../src/policy/compile-safe-regex.js'
import { createPolicy, PolicyError } from '../../src/policy/index.js'
import { groupEvent } from './helpers.js'

describe('regexes are checked at load', () => {
  for (const [pattern, kind] of [
    ['(a+)+$', 'exponential'],
    ['(a|a)*$', 'polynomial'],
    ['^(\\w+\\s?)*$', 'exponential'],
    ['\\d+\\d+$', 'polynomial'],
    ['a.*b.*c', 'polynomial'],
    ['(?:[a-z0-9-]+\\.)+[a-z]{2,}', 'polynomial'],
  ]) {
    it(`refuses ${pattern} (${kind} backtracking) with a message that says why`, () => {
      const r = compileSafeRegex(pattern!, '')
      assert.equal(typeof r, 'string')
      assert.match(r as string, /can backtrack catastrophically/)
    })
  }

  it('refuses backreferences, bad syntax, disallowed flags and empty matches', () => {
    assert.match(compileSafeRegex('(\\d)\\1', '') as string, /backreference \\1/)
    assert.match(compileSafeRegex('(', '') as string, /not a valid regular expression/)
    assert.match(compileSafeRegex('abc', 'g') as string, /flag "g" is not allowed/)
    assert.match(compileSafeRegex('x*', '') as string, /matches the empty string/)
  })

  for (const pattern of ['(?<=(?:a|aa)+)b', '(?<=(a*)*)b', '(?<=a+)b', '(?<!\\w+)x', '(?=(?:a|aa)+c)', 'x(?!(?:ab){2})']) {
    it(`refuses ${pattern}: quantifiers inside a lookaround escape the backtracking analysis`, () => {
      const r = compileSafeRegex(pattern, '')
      assert.equal(typeof r, 'string', pattern)
      assert.match(r as string, /can backtrack catastrophically .*inside a lookaround/)
    })
  }

  it('accepts lookarounds with bounded single-character quantifiers', () => {
    for (const p of ['(?<=\\d{1,3})x', '(?<![a-z]{2})1[3-9]\\d{9}', 'foo(?=bar)', '(?<=wx)id']) {
      const r = compileSafeRegex(p, '')
      assert.notEqual(typeof r, 'string', `${p}: ${String(r)}`)
    }
  })

  it('a policy with a lookbehind pattern is refused at load, naming the rule (index and name) and the pattern', () => {
    assert.throws(
      () =>
        createPolicy({
          rules: [
            { name: 'ok', when: { always: true }, then: 'allow' },
            { name: 'sneaky', when: { regex: '(?<=(?:a|aa)+)b' }, then: 'deny' },
          ],
        }),
      (err: unknown) =>
        err instanceof PolicyError &&
        err.issues[0]!.path === 'rules[1].when.regex' &&
        err.message.includes('rule "sneaky": "(?<=(?:a|aa)+)b" can backtrack catastrophically') &&
        /the unbounded quantifier \(\?:a\|aa\)\+ inside a lookaround/.test(err.message),
    )
  })

  it('accepts linear patterns', () => {
    for (const p of ['1[3-9]\\d{9}', 'https?://\\S+', '\\bfree\\s+money\\b', 'wx(?:id|号)[:：]?\\s*[a-zA-Z][-_a-zA-Z0-9]{5,19}']) {
      const r = compileSafeRegex(p, 'i')
      assert.notEqual(typeof r, 'string', `${p}: ${String(r)}`)
    }
  })

  it('a policy with (a+)+$ is refused at load, naming the rule and field', () => {
    assert.throws(
      () =>
        createPolicy({
          rules: [
            { name: 'ok', when: { always: true }, then: 'allow' },
            { name: 'evil', when: { regex: '(a+)+$' }, then: 'deny' },
          ],
        }),
      (err: unknown) =>
        err instanceof PolicyError &&
        err.issues[0]!.path === 'rules[1].when.regex' &&
        /"\(a\+\)\+\$" can backtrack catastrophically \(exponential/.test(err.message),
    )
  })

  it('an accepted pattern decides a 200,000-character adversarial message (a backtracking-prone input) without hanging', () => {
    // The input that makes (a+)+$ run for ages; the accepted rules go through it once.
    const evil = 'a'.repeat(200_000) + '!'
    const policy = createPolicy({
      rules: [
        { name: 'phone', when: { regex: '1[3-9]\\d{9}' }, then: { mask: '*' } },
        { name: 'words', when: { regex: { pattern: '\\ba+b\\b', flags: 'i' } }, then: 'deny' },
      ],
    })
    const d = policy.decide(groupEvent(evil))
    assert.equal(d.action, 'allow')
  })
})
