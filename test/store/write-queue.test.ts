/** The group-commit queue in front of every backend, with a fake backend that can fail on demand. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createStore, type StoreBackend } from '../../src/store/create-store.js'
import type { WriteRow } from '../../src/store/records.js'
import { groupBefore, groupSend, record } from './helpers.js'

function fakeBackend() {
  const committed: WriteRow[][] = []
  const state = { failing: false, commits: 0 }
  const backend: StoreBackend = {
    kind: 'sqlite',
    async commit(rows) {
      state.commits++
      if (state.failing) throw new Error('database is down')
      committed.push(rows)
    },
    listMessages: () => ({ items: [], nextCursor: null }),
    listEvents: () => ({ items: [], nextCursor: null }),
    readBody: () => null,
    stats: () => ({
      events: { total: 0, byCommand: {} },
      decisions: { byVerdict: {}, byRule: {} },
      rejections: { byCause: {} },
      messages: { total: 0, recalled: 0, recallsAwaitingMessage: 0 },
    }),
    ping: () => {},
    close: () => {},
  }
  return { backend, committed, state }
}

const eventKeys = (batches: WriteRow[][]) =>
  batches
    .flat()
    .filter((r) => r.kind === 'event')
    .map((r) => (r as { requestId: string }).requestId)

describe('write queue', () => {
  it('resolves a write only after the commit that holds it', async () => {
    const { backend, committed } = fakeBackend()
    const store = createStore(backend)
    const r = record(groupSend('q', 1))
    await store.write(r)
    assert.deepEqual(eventKeys(committed), [r.requestId])
    await store.close()
  })

  it('rejects durable writes when the commit fails, keeps fire-and-forget records and commits them once it works again', async () => {
    const { backend, committed, state } = fakeBackend()
    const store = createStore(backend, { retryDelayMs: 5 })
    state.failing = true
    const kept = record(groupBefore('q', 1))
    store.enqueue(kept)
    store.countRejection('TIMHOOK_SIGN_MISMATCH')
    await assert.rejects(store.write(record(groupSend('q', 2))), /database is down/)
    assert.equal(store.pending, 1, 'the kept before-send record (rejections are counts, not records)')
    state.failing = false
    await store.write(record(groupSend('q', 3)))
    assert.equal(store.pending, 0)
    const rows = committed.flat()
    assert.ok(rows.some((r) => r.kind === 'event' && r.requestId === kept.requestId))
    assert.ok(rows.some((r) => r.kind === 'rejection'))
    await store.close()
  })

  it('retries kept records on its own after a failure, without new writes', async () => {
    const { backend, committed, state } = fakeBackend()
    const store = createStore(backend, { retryDelayMs: 1 })
    state.failing = true
    store.enqueue(record(groupBefore('q', 9)))
    for (let i = 0; i < 200 && state.commits < 2; i++) await new Promise((r) => setTimeout(r, 5))
    state.failing = false
    for (let i = 0; i < 400 && committed.length === 0; i++) await new Promise((r) => setTimeout(r, 5))
    assert.equal(committed.length, 1)
    await store.close()
  })

  it('caps what it keeps while failing and counts what it dropped', async () => {
    const { backend, state } = fakeBackend()
    const store = createStore(backend, { maxPendingRecords: 3, retryDelayMs: 1000 })
    state.failing = true
    for (let i = 0; i < 5; i++) store.enqueue(record(groupBefore('q', i)))
    assert.equal(store.pending, 3)
    assert.equal(store.dropped, 2)
    state.failing = false
    await store.close()
  })

  it('plans records into rows in the batch; a record that cannot be planned fails alone, not its batch', async () => {
    const { backend, committed } = fakeBackend()
    const store = createStore(backend)
    const good = record(groupSend('q', 1))
    const odd = record(groupBefore('q', 2))
    Object.defineProperty(odd.body, 'GroupId', {
      enumerable: true,
      get: () => {
        throw new Error('unreadable GroupId')
      },
    })
    const oddKept = record(groupBefore('q', 3))
    Object.defineProperty(oddKept.body, 'GroupId', {
      enumerable: true,
      get: () => {
        throw new Error('unreadable GroupId')
      },
    })
    store.enqueue(oddKept)
    const results = await Promise.allSettled([store.write(odd), store.write(good)])
    assert.equal(results[0]!.status, 'rejected')
    assert.match(String((results[0] as PromiseRejectedResult).reason), /unreadable GroupId/)
    assert.equal(results[1]!.status, 'fulfilled')
    assert.deepEqual(eventKeys(committed), [good.requestId])
    assert.equal(store.dropped, 1, 'the fire-and-forget record that could not be planned is counted as dropped')
    assert.equal(store.pending, 0)
    await store.close()
  })

  it('splits a long queue into batches of maxBatch', async () => {
    const { backend, committed } = fakeBackend()
    const store = createStore(backend, { maxBatch: 10 })
    await Promise.all(Array.from({ length: 25 }, (_, i) => store.write(record(groupSend('q', i)))))
    assert.deepEqual(
      committed.map((b) => b.filter((r) => r.kind === 'event').length),
      [10, 10, 5],
    )
    await store.close()
  })

  it('refuses writes after close', async () => {
    const { backend } = fakeBackend()
    const store = createStore(backend)
    await store.close()
    await assert.rejects(store.write(record(groupSend('q', 1))), /closed/)
  })
})
