import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { RecentMap } from '../../src/server/recent-map.js'

/** The behaviour RecentMap must have, written the obvious way. */
class Model {
  readonly map = new Map<string, number>()
  constructor(readonly capacity: number) {}
  add(key: string, value: number): void {
    if (this.map.size === this.capacity) this.map.delete(this.map.keys().next().value!)
    this.map.set(key, value)
  }
}

describe('RecentMap', () => {
  it('keeps the most recent entries and forgets the oldest first', () => {
    const m = new RecentMap<number>(3)
    for (const [i, k] of ['a', 'b', 'c', 'd'].entries()) m.add(k, i)
    assert.equal(m.get('a'), undefined, 'the oldest was forgotten')
    assert.deepEqual(['b', 'c', 'd'].map((k) => m.get(k)), [1, 2, 3])
    assert.equal(m.size, 3)
    m.add('e', 4)
    assert.equal(m.get('b'), undefined)
    assert.equal(m.get('e'), 4)
  })

  it('clamps the capacity to at least one', () => {
    const m = new RecentMap<string>(0)
    m.add('x', 'X')
    m.add('y', 'Y')
    assert.equal(m.get('x'), undefined)
    assert.equal(m.get('y'), 'Y')
    assert.equal(m.capacity, 1)
  })

  it('agrees with a Map evicted in insertion order, over generated sequences (probe runs wrap and shift back)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        // A small key alphabet: many keys share probe runs in the small index, and many come back.
        fc.array(fc.tuple(fc.boolean(), fc.stringMatching(/^[ab]{0,4}$/)), { maxLength: 300 }),
        (capacity, ops) => {
          const m = new RecentMap<number>(capacity)
          const model = new Model(capacity)
          ops.forEach(([isAdd, key], n) => {
            if (isAdd && model.map.get(key) === undefined) {
              m.add(key, n)
              model.add(key, n)
            }
            assert.equal(m.get(key), model.map.get(key), `get(${JSON.stringify(key)}) after ${n + 1} operations`)
          })
          assert.equal(m.size, model.map.size)
          for (const [k, v] of model.map) assert.equal(m.get(k), v)
        },
      ),
      { numRuns: 500 },
    )
  })

  it('holds 10,000 entries and finds each one (the server default)', () => {
    const m = new RecentMap<number>(10_000)
    for (let i = 0; i < 25_000; i++) m.add(`Group.CallbackBeforeSendMsg|@TGS#g|${i % 97}|user|${i}|`, i)
    for (let i = 0; i < 25_000; i++) assert.equal(m.get(`Group.CallbackBeforeSendMsg|@TGS#g|${i % 97}|user|${i}|`), i < 15_000 ? undefined : i)
  })
})
