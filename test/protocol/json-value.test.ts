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

  it('calls toJSON with the property name or index, as JSON.stringify does, at any depth and on callables', () => {
    const keyed = () => ({ toJSON: (k: string) => `key ${k}` })
    const samples: unknown[] = [
      { a: keyed() }, [keyed(), keyed()], { deep: [{ x: keyed() }] }, { '"q"': keyed(), 免费: keyed() },
      { f: Object.assign(() => 1, { toJSON: (k: string) => `fn ${k}` }) }, Object.assign(() => 1, { toJSON: () => 'top' }),
      { gone: { toJSON: () => undefined }, kept: 1 }, [{ toJSON: () => undefined }],
    ]
    for (const v of samples) assert.equal(jsonValue(v), JSON.stringify(v), String(JSON.stringify(v)))
    const proto = BigInt.prototype as unknown as { toJSON?: (this: bigint, k: string) => string }
    proto.toJSON = function (k) {
      return `${k}=${this.toString()}`
    }
    try {
      assert.equal(jsonValue({ n: 1n, list: [2n] }), JSON.stringify({ n: 1n, list: [2n] }))
    } finally {
      delete proto.toJSON
    }
    // Generated values with a toJSON on some of their objects and arrays, reporting the key it got.
    const withToJSON = (v: unknown, seed: number): unknown => {
      let n = seed
      const walk = (x: unknown): unknown => {
        if (x === null || typeof x !== 'object') return x
        const copy: Record<string, unknown> | unknown[] = Array.isArray(x) ? x.map(walk) : Object.fromEntries(Object.entries(x).map(([k, y]) => [k, walk(y)]))
        if ((n = (n * 1103515245 + 12345) % 2147483648) % 3 === 0) {
          Object.defineProperty(copy, 'toJSON', { value: (k: string) => ({ k, size: Object.keys(copy).length }), enumerable: false })
        }
        return copy
      }
      return walk(v)
    }
    fc.assert(fc.property(fc.jsonValue(), fc.nat(), (v, seed) => {
      const x = withToJSON(v, seed)
      return jsonValue(x) === JSON.stringify(x)
    }), { numRuns: 2000 })
  })

  it('throws as JSON.stringify throws: a cycle, a bigint', () => {
    const cyclic: Record<string, unknown> = { a: 1 }
    cyclic.self = [cyclic]
    assert.throws(() => jsonValue(cyclic), TypeError)
    assert.throws(() => jsonValue({ n: 1n }), TypeError)
  })
})
