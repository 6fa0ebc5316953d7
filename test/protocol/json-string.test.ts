import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { jsonString } from '../../src/protocol/json-string.js'
import { decisionJson, type DecisionRecord } from '../../src/store/records.js'

describe('jsonString', () => {
  it('writes what JSON.stringify writes, for any string (escapes, control characters, lone surrogates)', () => {
    for (const s of ['', 'user1', 'a"b', 'a\\b', 'tab\there', '\u0000', '免费领取', '😀', '\ud800', 'x\udc00y', '\u2028', '\u007f']) assert.equal(jsonString(s), JSON.stringify(s), s)
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => jsonString(s) === JSON.stringify(s)), { numRuns: 2000 })
    fc.assert(fc.property(fc.string({ unit: fc.constantFrom('a', '"', '\\', '\n', '\ud83d', '\ude00', 'é') }), (s) => jsonString(s) === JSON.stringify(s)), { numRuns: 2000 })
  })
})

describe('decisionJson', () => {
  it('writes what JSON.stringify writes for a DecisionRecord', () => {
    const text = fc.option(fc.string({ unit: 'binary' }), { nil: null })
    const record = fc.record({
      verdict: fc.constantFrom('allow', 'deny', 'drop'),
      rewritten: fc.boolean(),
      code: fc.option(fc.integer({ min: 0, max: 2 ** 31 }), { nil: null }),
      fallback: fc.boolean(),
      rule: text,
      action: text,
      reason: text,
      dryRun: fc.boolean(),
    }) as fc.Arbitrary<DecisionRecord>
    fc.assert(fc.property(record, (d) => decisionJson(d) === JSON.stringify(d)), { numRuns: 2000 })
  })
})
