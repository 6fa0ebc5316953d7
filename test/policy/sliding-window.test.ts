import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { SlidingWindowStore } from '../../src/policy/sliding-window.js'

/** The sliding-window log written the obvious way: every admitted time, filtered on each hit. */
function modelHit(log: Map<string, number[]>, key: string, now: number, windowMs: number, max: number): number {
  const times = (log.get(key) ?? []).filter((t) => t > now - windowMs)
  log.set(key, times)
  if (times.length >= max) return times.length
  times.push(now)
  return -1
}

describe('SlidingWindowStore', () => {
  it('keeps a window per scope and id', () => {
    const s = new SlidingWindowStore()
    assert.deepEqual([0, 1, 2].map((t) => s.hit('flood|sender', 'alice', t, 1000, 2)), [-1, -1, 2])
    assert.equal(s.hit('flood|sender', 'bob', 3, 1000, 2), -1, 'another id')
    assert.equal(s.hit('other|sender', 'alice', 3, 1000, 2), -1, 'another scope')
    assert.equal(s.hit('flood|sender', 'alice', 1000, 1000, 2), -1, 'the message at 0 left the window')
    assert.equal(s.size, 3)
  })

  it('grows a wrapped ring oldest first (the oldest time still leaves the window first)', () => {
    const s = new SlidingWindowStore()
    const hit = (t: number) => s.hit('r|sender', 'alice', t, 1000, 5)
    // Four slots to start with; at 1050 the time 0 has left and 1050 wraps to the first slot.
    assert.deepEqual([0, 100, 200, 300, 1050].map(hit), [-1, -1, -1, -1, -1])
    assert.equal(hit(1060), -1, 'the ring grows to five, oldest first: 100, 200, 300, 1050, 1060')
    assert.equal(hit(1070), 5)
    assert.equal(hit(1150), -1, '100 left the window')
  })

  it('agrees with the obvious log over generated traffic, including windows and limits changed by a reload', () => {
    const rule = fc.record({ windowMs: fc.constantFrom(500, 1000, 3000), max: fc.integer({ min: 1, max: 12 }) })
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            { weight: 20, arbitrary: fc.record({ scope: fc.constantFrom(0, 1), id: fc.constantFrom('u1', 'u1', 'u1', 'u2'), dt: fc.integer({ min: 0, max: 150 }) }) },
            // A reload may change a rule's window or limit; the store keeps the times it holds.
            { weight: 1, arbitrary: fc.record({ reload: fc.constantFrom(0, 1), to: rule }) },
          ),
          { maxLength: 500 },
        ),
        fc.tuple(rule, rule),
        (ops, initial) => {
          const rules = [...initial]
          const s = new SlidingWindowStore()
          const log = new Map<string, number[]>()
          let now = 1_700_000_000_000
          ops.forEach((op, i) => {
            if ('reload' in op) {
              rules[op.reload] = op.to
              return
            }
            const { windowMs, max } = rules[op.scope]!
            now += op.dt
            const scope = op.scope === 0 ? 'a|sender' : 'b|group'
            assert.equal(s.hit(scope, op.id, now, windowMs, max), modelHit(log, `${scope}\0${op.id}`, now, windowMs, max), `operation ${i}`)
          })
        },
      ),
      { numRuns: 300 },
    )
  })

  it('counts an admitted message once while it is in the window; a refused one is decided again', () => {
    const s = new SlidingWindowStore()
    const hit = (t: number, msg?: string) => s.hit('flood|sender', 'alice', t, 1000, 2, msg)
    assert.equal(hit(0, 'm1'), -1)
    assert.equal(hit(1, 'm1'), -1, 'redelivered: admitted again')
    assert.equal(hit(2, 'm2'), -1, 'the redelivery did not spend the second place')
    assert.equal(hit(3, 'm3'), 2)
    assert.equal(hit(4, 'm3'), 2, 'refused again while the window is full')
    assert.equal(hit(5), 2, 'no identity: counted (and refused) every time')
    assert.equal(s.hit('other|sender', 'alice', 6, 1000, 2, 'm1'), -1, 'the same message in another scope counts there')
    assert.equal(hit(1000, 'm3'), -1, 'the resend of a refused message goes through once m1 has left the window')
    assert.equal(hit(1001, 'm1'), 2, 'm1 was admitted 1001 ms ago, outside the window: counted as a new message (and refused)')
    assert.equal(hit(1500, 'm3'), -1, 'm3 was admitted at 1000: still a redelivery')
  })

  it('forgets the oldest remembered message first, and only that one', () => {
    const s = new SlidingWindowStore({ remember: 2 })
    const hit = (msg: string) => s.hit('r|sender', 'alice', 0, 60_000, 100, msg)
    hit('a')
    hit('b')
    hit('c') // remembered: b, c
    assert.equal(s.hit('r|sender', 'bob', 0, 60_000, 1, 'x'), -1) // remembered: c, x
    assert.equal(s.hit('r|sender', 'bob', 0, 60_000, 1, 'x'), -1, 'x is remembered')
    assert.equal(s.hit('r|sender', 'carol', 0, 60_000, 1, 'y'), -1) // remembered: x, y
    assert.equal(s.hit('r|sender', 'bob', 0, 60_000, 1, 'x'), -1, 'x is still remembered: y evicted c, not x')
    assert.equal(s.hit('r|sender', 'alice', 0, 60_000, 3, 'a'), 3, 'a was forgotten: counted again, over the limit of 3')
  })

  it('refuses a remember option that is not a usable size', () => {
    for (const remember of [0, -1, 1.5, NaN, Infinity, 2 ** 30]) assert.throws(() => new SlidingWindowStore({ remember }), RangeError, String(remember))
  })

  it('agrees with the obvious log plus a record of admitted messages over generated traffic with redeliveries', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            scope: fc.constantFrom('a|sender', 'b|group'),
            id: fc.constantFrom('u1', 'u1', 'u2'),
            // Few message ids, so that redeliveries are frequent; undefined: no identity.
            msg: fc.option(fc.integer({ min: 0, max: 30 }).map((n) => `m${n}`), { nil: undefined, freq: 4 }),
            dt: fc.integer({ min: 0, max: 200 }),
          }),
          { maxLength: 400 },
        ),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 64 }),
        (ops, max, remember) => {
          const s = new SlidingWindowStore({ remember })
          const log = new Map<string, number[]>()
          const admitted = new Map<string, number>() // (scope, message) → admitted at, oldest first
          let now = 0
          ops.forEach((op, i) => {
            now += op.dt
            const key = op.msg === undefined ? undefined : `${op.scope}\0${op.msg}`
            const at = key === undefined ? undefined : admitted.get(key)
            let expected: number
            if (at !== undefined && now - at < 1000) expected = -1
            else {
              expected = modelHit(log, `${op.scope}\0${op.id}`, now, 1000, max)
              if (key !== undefined && expected < 0) {
                if (at !== undefined) admitted.set(key, now) // keeps its place in the order
                else {
                  admitted.set(key, now)
                  if (admitted.size > remember) admitted.delete(admitted.keys().next().value!)
                }
              }
            }
            assert.equal(s.hit(op.scope, op.id, now, 1000, max, op.msg), expected, `operation ${i}`)
          })
        },
      ),
      { numRuns: 300 },
    )
  })

  it('forgets idle ids when they double, and keeps those still in their window', () => {
    const s = new SlidingWindowStore()
    for (let i = 0; i < 10_000; i++) s.hit('r|sender', `old${i}`, 0, 1000, 5)
    // The 10,001st id sweeps first, with the scope's window now 10 s: every old id is still in it.
    s.hit('r|sender', 'recent', 5000, 10_000, 5)
    assert.equal(s.size, 10_001)
    for (let i = 0; i < 10_000; i++) s.hit('r|sender', `more${i}`, 30_000, 1000, 5)
    assert.equal(s.size < 10_100, true, `idle ids were swept (${s.size} left)`)
  })
})
