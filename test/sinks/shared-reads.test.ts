/**
 * The delivery loops share their outbox reads (`sharedReads`): a read of a position another loop
 * just read is answered from that read, never from a stale "nothing new", and a failure is not
 * kept. The outbox here is an in-memory list of events that grows as a store's would.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import type { Outbox, OutboxEvent } from '../../src/sinks/outbox.js'
import { sharedReads } from '../../src/sinks/run-sinks.js'

function growingOutbox() {
  const events: OutboxEvent[] = []
  let reads = 0
  let failNext = false
  const outbox = {
    read(position: string, limit: number): Promise<OutboxEvent[]> {
      reads++
      if (failNext) {
        failNext = false
        return Promise.reject(new Error('database is locked'))
      }
      return Promise.resolve(events.filter((e) => e.id > Number(position)).slice(0, limit))
    },
  } as Pick<Outbox, 'read'> as Outbox
  const add = (n: number) => {
    for (let i = 0; i < n; i++) {
      const id = events.length + 1
      events.push({
        position: String(id),
        id,
        key: `k${id}`,
        command: 'C2C.CallbackAfterSendMsg',
        sdkAppId: '1',
        receivedAt: id,
        raw: new Uint8Array(),
        decision: null,
      })
    }
  }
  return { outbox, add, reads: () => reads, failOnce: () => void (failNext = true) }
}

describe('sharedReads', () => {
  it('answers a second loop at the same position from the first loop’s read', async () => {
    const o = growingOutbox()
    o.add(500)
    const read = sharedReads(o.outbox, 12)
    const [a, b] = await Promise.all([read('0', 200), read('0', 200)])
    const c = await read('0', 200)
    assert.equal(o.reads(), 1)
    assert.deepEqual(
      a.map((e) => e.id),
      Array.from({ length: 200 }, (_, i) => i + 1),
    )
    assert.equal(b, a)
    assert.equal(c, a)
    await read('200', 200)
    await read('200', 200)
    assert.equal(o.reads(), 2)
  })

  it('does not keep "nothing new": a loop at the end sees events committed since', async () => {
    const o = growingOutbox()
    const read = sharedReads(o.outbox, 12)
    assert.deepEqual(await read('0', 200), [])
    o.add(3)
    assert.deepEqual(
      (await read('0', 200)).map((e) => e.id),
      [1, 2, 3],
    )
  })

  it('does not keep a failed read', async () => {
    const o = growingOutbox()
    o.add(5)
    const read = sharedReads(o.outbox, 12)
    o.failOnce()
    await assert.rejects(read('0', 200), /database is locked/)
    assert.equal((await read('0', 200)).length, 5)
  })

  it('keeps at most `keep` answers, the newest', async () => {
    const o = growingOutbox()
    o.add(100)
    const read = sharedReads(o.outbox, 2)
    for (const p of ['0', '10', '20']) await read(p, 10)
    assert.equal(o.reads(), 3)
    await read('20', 10)
    await read('10', 10)
    assert.equal(o.reads(), 3)
    await read('0', 10) // gone: read again
    assert.equal(o.reads(), 4)
  })

  it('gives several loops moving at their own pace every event once each, in order, as reading alone would', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 30 }), { minLength: 2, maxLength: 4 }),
        fc.integer({ min: 1, max: 6 }),
        async (steps, keep) => {
          const o = growingOutbox()
          const read = sharedReads(o.outbox, keep)
          const loops = steps.map(() => ({ position: '0', seen: [] as number[] }))
          const rounds = Math.max(...steps.map((s) => s.length))
          for (let r = 0; r < rounds; r++) {
            o.add(3)
            for (const [i, loop] of loops.entries()) {
              const limit = steps[i]![r % steps[i]!.length]!
              const events = await read(loop.position, limit)
              loop.seen.push(...events.map((e) => e.id))
              if (events.length > 0) loop.position = events.at(-1)!.position
            }
          }
          for (const loop of loops)
            assert.deepEqual(
              loop.seen,
              Array.from({ length: loop.seen.length }, (_, i) => i + 1),
            )
        },
      ),
    )
  })
})
