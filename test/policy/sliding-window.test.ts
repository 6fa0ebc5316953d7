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
    assert.deepEqual(
      [0, 1, 2].map((t) => s.hit('flood|sender', 'alice', t, 1000, 2)),
      [-1, -1, 2],
    )
    assert.equal(s.hit('flood|sender', 'bob', 3, 1000, 2), -1, 'another id')
    assert.equal(s.hit('other|sender', 'alice', 3, 1000, 2), -1, 'another scope')
    assert.equal(s.hit('flood|sender', 'alice', 1000, 1000, 2), -1, 'the message at 0 left the window')
    assert.equal(s.size, 3)
  })

  it('moves a full slot to a ring of its own, oldest first (the oldest time still leaves the window first)', () => {
    const s = new SlidingWindowStore()
    const hit = (t: number, msg?: string) => s.hit('r|sender', 'alice', t, 1000, 40, msg)
    // Sixteen times fit in a slot; the 17th moves the window to a ring of its own.
    const times = Array.from({ length: 39 }, (_, k) => k * 10)
    assert.deepEqual(
      times.map((t) => hit(t, `m${t}`)),
      times.map(() => -1),
    )
    assert.equal(hit(395, 'm30'), -1, 'a message admitted before the move is still known: not counted')
    assert.equal(hit(390), -1, 'the fortieth')
    assert.equal(hit(400), 40, 'forty in the window')
    assert.equal(hit(401, 'm0'), -1, 'a redelivery is admitted even when the window is full')
    assert.equal(hit(1000), -1, 'the time 0 left the window')
    assert.equal(hit(1001), 40)
    assert.equal(hit(1010), -1, 'then the time 10')
  })

  it('agrees with the obvious log over generated traffic, including windows and limits changed by a reload', () => {
    // max up to 40: windows of more than 16 (a slot's size) move to a ring of their own.
    const rule = fc.record({ windowMs: fc.constantFrom(500, 1000, 3000), max: fc.integer({ min: 1, max: 40 }) })
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            {
              weight: 20,
              arbitrary: fc.record({
                scope: fc.constantFrom(0, 1),
                id: fc.constantFrom('u1', 'u1', 'u1', 'u2'),
                dt: fc.integer({ min: 0, max: 150 }),
              }),
            },
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

  it('recognises a redelivery however many messages others sent in between', () => {
    const s = new SlidingWindowStore()
    assert.equal(s.hit('r|sender', 'alice', 0, 60_000, 2, 'a1'), -1)
    for (let i = 0; i < 100_000; i++) s.hit('r|sender', `user${i}`, 1, 60_000, 2, `m${i}`)
    assert.equal(s.hit('r|sender', 'alice', 2, 60_000, 2, 'a1'), -1, 'a1 again: not counted')
    assert.equal(s.hit('r|sender', 'alice', 3, 60_000, 2, 'a2'), -1, 'the second place was still free')
    assert.equal(s.hit('r|sender', 'alice', 4, 60_000, 2, 'a3'), 2)
  })

  it('recognises a redelivery anywhere in a large window', () => {
    const s = new SlidingWindowStore()
    const hit = (t: number, msg: string) => s.hit('r|group', 'g1', t, 60_000, 5000, msg)
    for (let i = 0; i < 2000; i++) assert.equal(hit(i, `m${i}`), -1)
    assert.equal(hit(3000, 'm1999'), -1, 'the newest: a redelivery')
    assert.equal(hit(3001, 'm0'), -1, 'the oldest: a redelivery')
    // Had either been counted again, the window would reach 5,000 earlier.
    for (let i = 0; i < 3000; i++) assert.equal(hit(4000 + i, `n${i}`), -1, `n${i}`)
    assert.equal(hit(9000, 'last'), 5000)
    assert.equal(hit(60_000, 'm0'), -1, 'm0 left the window at 60,000: counted as a new message, and there is room again')
  })

  it('re-lays the windows when a reload changes the limit, keeping every admitted time', () => {
    const s = new SlidingWindowStore()
    for (let k = 0; k < 3; k++) assert.equal(s.hit('r|sender', 'alice', k, 1000, 1 + k * 10), -1)
    assert.equal(s.hit('r|sender', 'alice', 10, 1000, 3), 3, 'limit lowered to 3: three in the window')
    for (let k = 0; k < 20; k++) s.hit('r|sender', 'bob', 20 + k, 1000, 40, `b${k}`)
    assert.equal(s.hit('r|sender', 'bob', 100, 1000, 2, 'b3'), -1, 'a redelivery after a re-lay is still known')
    assert.equal(s.hit('r|sender', 'bob', 101, 1000, 2, 'new'), 20, 'twenty in the window, over the new limit of 2')
    assert.equal(s.hit('r|sender', 'alice', 1000, 1000, 3), -1, "the time 0 left alice's window")
  })

  it('refuses a limit or window that is not a number ≥ 0', () => {
    const s = new SlidingWindowStore()
    for (const [max, windowMs] of [
      [NaN, 1000],
      [-1, 1000],
      [5, NaN],
      [5, -1],
    ] as const) {
      assert.throws(() => s.hit('r|sender', 'alice', 0, windowMs, max), /max and windowMs must be numbers ≥ 0/)
    }
    assert.deepEqual(
      [0, 1, 2, 3].map((t) => s.hit('r|sender', 'bob', t, 1000, 2.5)),
      [-1, -1, -1, 3],
      'max 2.5: refused once three are in the window (3 ≥ 2.5)',
    )
  })

  it('agrees with the obvious log plus a record of admitted messages over generated traffic with redeliveries', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            scope: fc.constantFrom('a|sender', 'b|group'),
            id: fc.constantFrom('u1', 'u1', 'u2'),
            // Few message ids, so that redeliveries are frequent; undefined: no identity.
            msg: fc.option(
              fc.integer({ min: 0, max: 30 }).map((n) => `m${n}`),
              { nil: undefined, freq: 4 },
            ),
            dt: fc.integer({ min: 0, max: 80 }), // up to ~25 per window: rings of their own past 16
          }),
          { maxLength: 400 },
        ),
        fc.integer({ min: 1, max: 24 }),
        (ops, max) => {
          const s = new SlidingWindowStore()
          const log = new Map<string, number[]>()
          const admitted = new Map<string, number>() // (scope, id, message) → admitted at
          let now = 0
          ops.forEach((op, i) => {
            now += op.dt
            const key = op.msg === undefined ? undefined : `${op.scope}\0${op.id}\0${op.msg}`
            const at = key === undefined ? undefined : admitted.get(key)
            let expected: number
            if (at !== undefined && now - at < 1000) expected = -1
            else {
              expected = modelHit(log, `${op.scope}\0${op.id}`, now, 1000, max)
              if (key !== undefined && expected < 0) admitted.set(key, now)
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

  it('keeps every window held through a sweep that shrinks the slab', () => {
    const s = new SlidingWindowStore()
    // 40,000 ids at 0 and 40 held ones (three times each, one past a slot: a ring of its own).
    for (let i = 0; i < 40_000; i++) s.hit('r|sender', `old${i}`, 0, 1000, 20)
    const held = Array.from({ length: 40 }, (_, i) => `held${i}`)
    for (const id of held) for (let k = 0; k < (id === 'held7' ? 17 : 3); k++) assert.equal(s.hit('r|sender', id, 900 + k, 1000, 20), -1)
    s.sweep(1500) // the 40,000 leave (their window ended at 1000): the slab shrinks to the 40 held
    assert.equal(s.size, 40)
    for (let i = 0; i < 100; i++) assert.equal(s.hit('r|sender', `new${i}`, 1500, 1000, 20), -1, 'new ids take slots after the shrink')
    // The held windows (times 900–916) survived the sweep and the slab's shrinking.
    for (const id of held) assert.equal(s.hit('r|sender', id, 1850, 1000, id === 'held7' ? 17 : 3), id === 'held7' ? 17 : 3, id)
  })
})
