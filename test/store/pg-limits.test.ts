/**
 * The writer queue over a real PostgreSQL that hangs, loses a table or refuses a record — only
 * this test's schema is touched (a lock held by another connection, a table renamed), never the
 * shared server itself.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import pg from 'pg'
import { openStore } from '../../src/store/open-store.js'
import { StoreBacklogError, StoreRefusedError } from '../../src/store/store-errors.js'
import type { Store } from '../../src/store/store.js'
import { PG_SKIP, PG_URL, dropSchema, groupSend, record } from './helpers.js'

describe('PostgreSQL hung, gone or refusing', { skip: PG_SKIP }, () => {
  const schema = `lim_${process.pid}_${Math.random().toString(36).slice(2, 8)}`
  const app = `${schema}_store`
  let store: Store
  let admin: pg.Client
  before(async () => {
    store = await openStore(`${PG_URL}?application_name=${app}`, {
      schema,
      maxPendingRecords: 20,
      maxBatch: 5,
      commitsInFlight: 2,
      retryDelayMs: 5,
      queryTimeoutMs: 60_000,
    })
    admin = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${schema}` })
    await admin.connect()
  })
  after(async () => {
    await store?.close()
    await admin?.end()
    await dropSchema(schema)
  })

  it('while a lock hangs every commit, the cap holds: past it writes fail at once; after release every admitted write is stored once', async () => {
    await admin.query('BEGIN')
    await admin.query('LOCK TABLE messages IN ACCESS EXCLUSIVE MODE')
    const admitted = Array.from({ length: 20 }, (_, i) => record(groupSend('hung', i + 1)))
    const writes = admitted.map((r) => store.write(r).then(() => 'ok' as const))
    // Two commits in flight, both waiting for the lock; the rest queued.
    for (;;) {
      await admin.query('SELECT pg_stat_clear_snapshot()') // inside a transaction the activity view is a snapshot
      const { rows } = await admin.query(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'`,
        [app],
      )
      if (rows[0].n === 2) break
    }
    assert.equal(store.pending, 20)
    const started = performance.now()
    const over = await Promise.allSettled(Array.from({ length: 30 }, (_, i) => store.write(record(groupSend('hung', 100 + i)))))
    assert.ok(
      over.every((r) => r.status === 'rejected' && r.reason instanceof StoreBacklogError),
      'every write past the cap is refused',
    )
    assert.ok(performance.now() - started < 1000, 'refused at once, not after the lock')
    assert.equal(store.pending, 20)
    await admin.query('ROLLBACK')
    assert.deepEqual(
      await Promise.all(writes),
      admitted.map(() => 'ok'),
    )
    const { rows } = await admin.query(
      `SELECT msg_seq::int AS seq, count(*)::int AS n FROM messages WHERE group_id = 'hung' GROUP BY msg_seq ORDER BY msg_seq`,
    )
    assert.deepEqual(
      rows,
      admitted.map((_, i) => ({ seq: i + 1, n: 1 })),
    )
    assert.equal((await store.stats()).messages.total, 20)
  })

  it('reports commits failing while a table is gone, and ready again once one succeeds', async () => {
    await admin.query('ALTER TABLE events RENAME TO events_away')
    try {
      await assert.rejects(store.write(record(groupSend('gone', 1))), /events/)
      assert.match(String(store.lastCommitError?.message), /events/)
    } finally {
      await admin.query('ALTER TABLE events_away RENAME TO events')
    }
    // No write needed: the store probes by itself until a commit works.
    while (store.lastCommitError !== undefined) await new Promise((resolve) => setTimeout(resolve, 5))
    await store.write(record(groupSend('gone', 2)))
  })

  it('isolates a record PostgreSQL refuses (an index row too large): it alone fails with the cause, counted; its batch commits', async () => {
    const before = await store.stats()
    const poison = record(groupSend(randomBytes(6000).toString('base64'), 1))
    const good = Array.from({ length: 6 }, (_, i) => record(groupSend('poison', i + 1)))
    const results = await Promise.allSettled([...good.slice(0, 3), poison, ...good.slice(3)].map((r) => store.write(r)))
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled'],
    )
    const reason = (results[3] as PromiseRejectedResult).reason as Error
    assert.ok(reason instanceof StoreRefusedError)
    assert.match(reason.message, /TIMHOOK_STORE_REFUSED: the database refused this record: .*index row/)
    await store.flush()
    const after = await store.stats()
    assert.equal((after.rejections.byCause.TIMHOOK_STORE_REFUSED ?? 0) - (before.rejections.byCause.TIMHOOK_STORE_REFUSED ?? 0), 1)
    assert.equal(after.messages.total - before.messages.total, 6)
    assert.equal(store.lastCommitError, undefined)
  })
})
