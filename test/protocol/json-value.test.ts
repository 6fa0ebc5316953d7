import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { jsonValue } from '../../src/protocol/json-value.js'

describe('jsonValue', () => {
  it('writes what JSON.stringify writes for any JSON value', () => {
    fc.assert(fc.property(fc.jsonValue(), (v) => jsonValue(v) === JSON.stringify(v)), { numRuns: 3000 })
    fc.assert(fc.property(fc.jsonValue({ depthSize: 'large' }), (v) => jsonValue(v) === JSON.stringify(v)), { numRuns: 300 })
  })

  it('and for what is not JSON: undefined, functions, NaN, -0, sparse arrays, Dates, class instances, null prototypes', () => {
    class Point {
      constructor(readonly x: number) {}
    }
    const samples: unknown[] = [
      undefined, () => 1, Symbol('s'), NaN, -Infinity, -0, [undefined, () => 1, NaN], { a: undefined, b: () => 1, c: 1 },
      // eslint-disable-next-line no-sparse-arrays
      [1, , 3], new Date(0), { d: new Date(0) }, new Point(1), Object.assign(Object.create(null), { z: 1 }),
      { toJSON: () => 'x' }, [{ toJSON: () => ({ y: 2 }) }], { '"quoted"\n': 'k', 免费: '领取' },
    ]
    for (const v of samples) assert.equal(jsonValue(v), JSON.stringify(v), String(JSON.stringify(v)))
    fc.assert(fc.property(fc.anything({ withDate: true, withNullPrototype: true, withSparseArray: true, withBoxedValues: true }), (v) => jsonValue(v) === JSON.stringify(v)), { numRuns: 2000 })
  })

  it('throws as JSON.stringify throws: a cycle, a bigint', () => {
    const cyclic: Record<string, unknown> = { a: 1 }
    cyclic.self = [cyclic]
    assert.throws(() => jsonValue(cyclic), TypeError)
    assert.throws(() => jsonValue({ n: 1n }), TypeError)
  })
})
