/** The receive-time nesting limit: found by a scan of the text, exactly, before anything parses or recurses. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import type { TimhookError } from '../../src/protocol/errors.js'
import { MAX_BODY_DEPTH, nestsDeeperThan, parseJsonObject } from '../../src/protocol/parse-json.js'
import { nestedText } from '../helpers/deep-bodies.js'

/** The depth of a parsed value, without recursion. */
function depthOf(root: unknown): number {
  let max = 0
  const stack: Array<[unknown, number]> = [[root, 1]]
  while (stack.length > 0) {
    const [v, d] = stack.pop()!
    if (v === null || typeof v !== 'object') continue
    max = Math.max(max, d)
    for (const child of Object.values(v)) stack.push([child, d + 1])
  }
  return max
}

describe('nesting depth', () => {
  it('refuses a body deeper than MAX_BODY_DEPTH and accepts one at it', () => {
    assert.doesNotThrow(() => parseJsonObject(nestedText(MAX_BODY_DEPTH)))
    assert.throws(
      () => parseJsonObject(nestedText(MAX_BODY_DEPTH + 1)),
      (err: TimhookError) => err.code === 'TIMHOOK_BODY_TOO_DEEP' && err.status === 400,
    )
    assert.throws(
      () => parseJsonObject(nestedText(1_000_000)),
      (err: TimhookError) => err.code === 'TIMHOOK_BODY_TOO_DEEP',
    )
  })

  it('does not count brackets inside strings, escaped quotes included', () => {
    const text = JSON.stringify({ a: '['.repeat(2000) + '\\"' + '{'.repeat(2000), b: [[1]] })
    assert.equal(nestsDeeperThan(text, 3), false)
    assert.equal(nestsDeeperThan(text, 2), true)
  })

  it('agrees with the depth of the parsed value, for generated JSON', () => {
    const value = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'medium', maxDepth: 12 },
        fc.oneof(fc.string({ unit: 'binary' }), fc.double(), fc.constantFrom(null, true, '[', '{"', '\\', ']}')),
        fc.array(tie('node'), { maxLength: 3 }),
        fc.dictionary(fc.string({ unit: 'binary', maxLength: 4 }), tie('node'), { maxKeys: 3 }),
      ),
    })).node
    fc.assert(
      fc.property(value, fc.integer({ min: 0, max: 14 }), (v, max) => {
        const text = JSON.stringify(v)
        assert.equal(nestsDeeperThan(text, max), depthOf(JSON.parse(text)) > max)
      }),
      { numRuns: 2000 },
    )
  })
})
