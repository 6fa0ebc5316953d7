/**
 * The writer queue's limits, with a backend that hangs, fails or refuses on demand: the cap on
 * everything waiting for the store, readiness, poison-record isolation and commits in flight.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { createStore, type StoreBackend } from '../../src/store/create-store.js'
import type { EventRow, WriteRow } from '../../src/store/records.js'
import { StoreBacklogError, StoreRefusedError } from '../../src/store/store-errors.js'
import { groupBefore, groupSend, record } from './helpers.js'

class DataError extends Error {
  code = 'DATA'
}

function hangingBackend(options: { concurrent?: number } = {}) {
  const committed: WriteRow[][] = []
  const state = { hung: false, failing: false, inFlight: 0, maxInFlight: 0, commits: 0, poison: new Set<string>() }
  let waiters: Array<() => void> = []
  const backend: StoreBackend = {
    kind: 'postgres',
    concurrentCommits: options.concurrent ?? 1,
    isDataError: (err) => err instanceof DataError,
    async commit(rows) {
      state.commits++
      state.inFlight++
      state.maxInFlight = Math.max(state.maxInFlight, state.inFlight)
      try {
        while (state.hung) await new Promise<void>((resolve) => waiters.push(resolve))
        await new Promise((resolve) => setImmediate(resolve))
        if (state.failing) throw new Error('database is down')
        const bad = rows.find((r) => r.kind === 'event' && state.poison.has(r.requestId))
        if (bad !== undefined) throw new DataError(`refused ${(bad as EventRow).requestId}`)
        committed.push(rows)
      } finally {
        state.inFlight--
      }
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
  const release = () => {
    state.hung = false
    for (const w of waiters.splice(0)) w()
    waiters = []
  }
  const stored = () =>
    committed
      .flat()
      .filter((r): r is EventRow => r.kind === 'event')
      .map((r) => r.requestId)
  return { backend, committed, state, release, stored }
}

const settled = async (p: Promise<unknown>): Promise<'resolved' | 'rejected' | 'pending'> => {
  const marker = Symbol('pending')
  const r = await Promise.race([
    p.then(
      () => 'resolved' as const,
      () => 'rejected' as const,
    ),
    new Promise((resolve) => setImmediate(() => resolve(marker))),
  ])
  return r === marker ? 'pending' : (r as 'resolved' | 'rejected')
}

describe('write queue limits', () => {
  it('past the record cap, a write fails at once with TIMHOOK_STORE_BACKLOG and is not queued; the admitted ones are stored once when the database resumes', async () => {
    const { backend, state, release, stored } = hangingBackend()
    const store = createStore(backend, { maxPendingRecords: 5 })
    state.hung = true
    const admitted = Array.from({ length: 5 }, (_, i) => record(groupSend('cap', i)))
    const waiting = admitted.map((r) => store.write(r))
    const over = record(groupSend('cap', 99))
    const refused = store.write(over)
    assert.equal(await settled(refused), 'rejected', 'refused while the database still hangs')
    await assert.rejects(
      refused,
      (err: unknown) =>
        err instanceof StoreBacklogError && err.code === 'TIMHOOK_STORE_BACKLOG' && /TIMHOOK_STORE_BACKLOG/.test(err.message),
    )
    store.enqueue(record(groupBefore('cap', 1)))
    assert.equal(store.pending, 5)
    assert.deepEqual(store.counters, { dropped: 1, backlogRefused: 2, dataRefused: 0 })
    for (const w of waiting) assert.equal(await settled(w), 'pending')
    release()
    await Promise.all(waiting)
    assert.deepEqual(stored().sort(), admitted.map((r) => r.requestId).sort())
    assert.equal(store.pending, 0)
    await store.write(record(groupSend('cap', 100)))
    await store.close()
  })

  it('writeWith (the callback form): committed after the commit that holds the record, failed at once past the cap, on a failed commit, and once closed', async () => {
    const { backend, state, release, stored } = hangingBackend()
    const store = createStore(backend, { maxPendingRecords: 2, retryDelayMs: 60_000 })
    const calls: string[] = []
    const outcome = (name: string) => {
      let settle!: () => void
      const settledOnce = new Promise<void>((resolve) => (settle = resolve))
      const committed = () => {
        calls.push(`${name} committed`)
        settle()
      }
      const failed = (err: unknown) => {
        calls.push(`${name} failed: ${(err as Error).message}`)
        settle()
      }
      return { committed, failed, settledOnce }
    }
    state.hung = true
    const a = outcome('a')
    const b = outcome('b')
    const c = outcome('c')
    const first = record(groupSend('with', 1))
    store.writeWith(first, a.committed, a.failed)
    store.writeWith(record(groupSend('with', 2)), b.committed, b.failed)
    store.writeWith(record(groupSend('with', 3)), c.committed, c.failed)
    assert.equal(calls.length, 1, 'the third is refused before writeWith returns')
    assert.match(calls[0]!, /^c failed: .*TIMHOOK_STORE_BACKLOG/)
    assert.deepEqual(stored(), [], 'nothing committed while the database hangs')
    release()
    await Promise.all([a.settledOnce, b.settledOnce])
    assert.deepEqual(calls.slice(1).sort(), ['a committed', 'b committed'])
    assert.ok(stored().includes(first.requestId))
    state.failing = true
    const d = outcome('d')
    store.writeWith(record(groupSend('with', 4)), d.committed, d.failed)
    await d.settledOnce
    assert.equal(calls.at(-1), 'd failed: database is down')
    state.failing = false
    await store.close()
    const e = outcome('e')
    store.writeWith(record(groupSend('with', 5)), e.committed, e.failed)
    assert.equal(calls.at(-1), 'e failed: the store is closed')
    assert.equal(calls.length, 5, 'each callback called once')
  })

  it('caps bytes too (a record alone is admitted whatever its size)', async () => {
    const { backend, state, release } = hangingBackend()
    const store = createStore(backend, { maxPendingBytes: 1000 })
    state.hung = true
    const big = record(groupSend('bytes', 1, { Pad: 'x'.repeat(2000) }))
    const first = store.write(big)
    const second = store.write(record(groupSend('bytes', 2)))
    await assert.rejects(second, StoreBacklogError)
    assert.ok(store.pendingBytes >= 2000)
    release()
    await first
    assert.equal(store.pendingBytes, 0)
    await store.close()
  })

  it('never holds more than the cap, whatever arrives while the database hangs (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ durable: fc.boolean(), size: fc.nat({ max: 3000 }) }), { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 1, max: 20 }),
        async (writes, cap) => {
          const { backend, state, release, stored } = hangingBackend({ concurrent: 2 })
          const store = createStore(backend, { maxPendingRecords: cap, maxPendingBytes: 20_000, maxBatch: 4 })
          state.hung = true
          const acked: string[] = []
          const results: Array<Promise<void>> = []
          for (const w of writes) {
            const r = record(groupSend('prop', results.length, { Pad: 'x'.repeat(w.size) }))
            if (w.durable)
              results.push(
                store.write(r).then(
                  () => void acked.push(r.requestId),
                  () => {},
                ),
              )
            else store.enqueue(r)
            assert.ok(store.pending <= cap && (store.pending <= 1 || store.pendingBytes <= 20_000))
          }
          release()
          await Promise.all(results)
          await store.flush()
          for (const id of acked) assert.equal(stored().filter((s) => s === id).length, 1)
          await store.close()
        },
      ),
      { numRuns: 50 },
    )
  })

  it('isolates a record the database refuses: it alone fails with the cause, counted; the rest of its batch commits', async () => {
    const { backend, state, stored, committed } = hangingBackend()
    const store = createStore(backend)
    const records = Array.from({ length: 9 }, (_, i) => record(groupSend('poison', i)))
    state.poison.add(records[5]!.requestId)
    const kept = record(groupBefore('poison', 1))
    state.poison.add(kept.requestId)
    store.enqueue(kept)
    const results = await Promise.allSettled(records.map((r) => store.write(r)))
    assert.deepEqual(
      results.map((r) => r.status),
      records.map((_, i) => (i === 5 ? 'rejected' : 'fulfilled')),
    )
    const reason = (results[5] as PromiseRejectedResult).reason as StoreRefusedError
    assert.ok(reason instanceof StoreRefusedError)
    assert.match(reason.message, /TIMHOOK_STORE_REFUSED.*refused req-/)
    assert.deepEqual(
      stored().sort(),
      records
        .filter((_, i) => i !== 5)
        .map((r) => r.requestId)
        .sort(),
    )
    await store.flush()
    const refusals = committed.flat().filter((r) => r.kind === 'rejection' && r.cause === 'TIMHOOK_STORE_REFUSED').length
    assert.equal(refusals, 2, 'both refusals counted in the stats rejections')
    assert.deepEqual(store.counters, { dropped: 1, backlogRefused: 0, dataRefused: 2 })
    assert.equal(store.lastCommitError, undefined, 'a refused record is not an outage')
    await store.close()
  })

  it('reports the last commit failed until one succeeds, probing by itself when nothing is queued', async () => {
    const { backend, state } = hangingBackend()
    let probes = 0
    backend.probe = async () => {
      probes++
      if (state.failing) throw new Error('still down')
    }
    const store = createStore(backend, { retryDelayMs: 1 })
    state.failing = true
    await assert.rejects(store.write(record(groupSend('ready', 1))), /database is down/)
    assert.match(String(store.lastCommitError?.message), /database is down/)
    while (probes < 2) await new Promise((resolve) => setImmediate(resolve))
    assert.ok(store.lastCommitError !== undefined)
    state.failing = false
    while (store.lastCommitError !== undefined) await new Promise((resolve) => setImmediate(resolve))
    await store.close()
  })

  it('group commit: records that arrive while a commit runs wait for it and form one batch, unless a full batch waits', async () => {
    const { backend, committed, state, release } = hangingBackend({ concurrent: 3 })
    const store = createStore(backend, { maxBatch: 4, groupCommitHoldMs: 600_000 })
    state.hung = true
    const first = store.write(record(groupSend('group-commit', 0)))
    while (state.inFlight < 1) await new Promise((resolve) => setImmediate(resolve))
    const rest = Array.from({ length: 3 }, (_, i) => store.write(record(groupSend('group-commit', i + 1))))
    // The queue's pump runs on setImmediate: two turns later it has seen the three records.
    for (let i = 0; i < 2; i++) await new Promise((resolve) => setImmediate(resolve))
    assert.equal(state.inFlight, 1, 'less than a full batch waits for the running commit')
    // A full batch (4) waiting starts beside it.
    const more = Array.from({ length: 1 }, (_, i) => store.write(record(groupSend('group-commit', i + 4))))
    while (state.inFlight < 2) await new Promise((resolve) => setImmediate(resolve))
    release()
    await Promise.all([first, ...rest, ...more])
    assert.deepEqual(
      committed.map((rows) => rows.filter((r) => r.kind === 'event').length),
      [1, 4],
    )
    await store.close()
  })

  it('group commit: a slow commit holds the next batch only groupCommitHoldMs, then a further commit starts beside it', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 })
    const { backend, committed, state, release } = hangingBackend({ concurrent: 3 })
    const store = createStore(backend, { maxBatch: 100, groupCommitHoldMs: 20 })
    state.hung = true
    const first = store.write(record(groupSend('group-hold', 0)))
    while (state.inFlight < 1) await new Promise((resolve) => setImmediate(resolve))
    const second = store.write(record(groupSend('group-hold', 1)))
    for (let i = 0; i < 2; i++) await new Promise((resolve) => setImmediate(resolve))
    t.mock.timers.tick(19)
    for (let i = 0; i < 2; i++) await new Promise((resolve) => setImmediate(resolve))
    assert.equal(state.inFlight, 1, 'held while the running commit is younger than the hold')
    t.mock.timers.tick(1)
    while (state.inFlight < 2) await new Promise((resolve) => setImmediate(resolve))
    release()
    await Promise.all([first, second])
    assert.deepEqual(
      committed.map((rows) => rows.filter((r) => r.kind === 'event').length),
      [1, 1],
    )
    await store.close()
  })

  it('runs up to concurrentCommits batches at once', async () => {
    const { backend, state, release } = hangingBackend({ concurrent: 3 })
    const store = createStore(backend, { maxBatch: 2 })
    state.hung = true
    const writes = Array.from({ length: 10 }, (_, i) => store.write(record(groupSend('inflight', i))))
    while (state.inFlight < 3) await new Promise((resolve) => setImmediate(resolve))
    release()
    await Promise.all(writes)
    assert.equal(state.maxInFlight, 3)
    await store.close()
  })
})
