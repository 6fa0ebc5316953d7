/**
 * SQLite answers a time filter as an id range: the writer stores `received_at` non-decreasing with
 * `id` (a row received before the newest stored one takes the newest's time), and the listing
 * finds the first id at or after each bound by a binary search over the primary key. Checked
 * against a plain filter of the stored rows, for generated arrival times (going back too),
 * redeliveries, deleted rows (gaps in the ids) and bounds on, between and outside the stored times.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { planWrites } from '../../src/store/records.js'
import { prepareCommit } from '../../src/store/sqlite-commit.js'
import { openDatabase, type DatabaseSync } from '../../src/store/sqlite-driver.js'
import { SQLITE_MIGRATIONS } from '../../src/store/sqlite-migrations.js'
import { firstIdReceivedFrom, sqliteEventSelect, sqliteMessageSelect } from '../../src/store/sqlite-sql.js'
import type { SqlQuery } from '../../src/store/sql.js'
import { groupSend, record } from './helpers.js'

function freshDb(): DatabaseSync {
  const db = openDatabase(':memory:')
  for (const m of SQLITE_MIGRATIONS) db.exec(m)
  db.function('timhook_in_budget', () => 1)
  return db
}

const ids = (db: DatabaseSync, q: SqlQuery) =>
  (db.prepare(q.text).all(...(q.params as Array<string | number | null>)) as Array<{ id: number }>).map((r) => Number(r.id))

const arrival = fc.record({
  // ms after the previous arrival: negative ones arrive "earlier" (a slow request, a clock step back)
  dt: fc.integer({ min: -3000, max: 3000 }),
  command: fc.constantFrom('Group.CallbackAfterSendMsg', 'Sns.CallbackFriendAdd'),
  // a redelivery of an earlier callback (same body, so the same idempotency key): stores nothing new
  again: fc.boolean(),
  batchEnd: fc.boolean(),
})

describe('SQLite time filters as id ranges', () => {
  it('store received_at non-decreasing with id, and list exactly the rows a plain filter finds', () => {
    fc.assert(
      fc.property(
        fc.array(arrival, { minLength: 0, maxLength: 60 }),
        fc.array(fc.nat({ max: 80 }), { maxLength: 8 }),
        fc.array(fc.option(fc.integer({ min: -4000, max: 90_000 }), { nil: undefined }), { minLength: 2, maxLength: 2 }),
        (arrivals, deleted, [since, until]) => {
          const db = freshDb()
          try {
            const commit = prepareCommit(db)
            const base = 1_700_000_000_000
            let t = base
            let batch: ReturnType<typeof planWrites> = []
            arrivals.forEach((a, i) => {
              t += a.dt
              const n = a.again && i > 0 ? i - 1 : i
              const body = a.command === 'Group.CallbackAfterSendMsg' ? groupSend('g', n + 1) : { CallbackCommand: a.command, N: n }
              batch.push(...planWrites(record(body, { receivedAt: t })))
              if (a.batchEnd) {
                commit(batch)
                batch = []
              }
            })
            commit(batch)
            for (const id of deleted) db.prepare('DELETE FROM events WHERE id = ?').run(id)

            for (const table of ['events', 'messages'] as const) {
              const rows = db.prepare(`SELECT id, received_at FROM ${table} ORDER BY id`).all() as Array<{
                id: number
                received_at: number
              }>
              for (let i = 1; i < rows.length; i++)
                assert.ok(rows[i]!.received_at >= rows[i - 1]!.received_at, `${table} goes back in time`)
            }
            const s = since === undefined ? undefined : base + since
            const u = until === undefined ? undefined : base + until
            const expected = (table: 'events' | 'messages', where = '') =>
              (
                db
                  .prepare(`SELECT id FROM ${table} WHERE received_at >= ? AND received_at < ? ${where} ORDER BY id DESC`)
                  .all(s ?? Number.MIN_SAFE_INTEGER, u ?? Number.MAX_SAFE_INTEGER) as Array<{ id: number }>
              ).map((r) => Number(r.id))
            const limit = 1000
            assert.deepEqual(ids(db, sqliteEventSelect({ since: s, until: u, limit })), expected('events'))
            assert.deepEqual(
              ids(db, sqliteEventSelect({ command: 'Sns.CallbackFriendAdd', since: s, until: u, limit })),
              expected('events', `AND command = 'Sns.CallbackFriendAdd'`),
            )
            assert.deepEqual(ids(db, sqliteMessageSelect({ groupId: 'g', since: s, until: u, limit })), expected('messages'))
          } finally {
            db.close()
          }
        },
      ),
      { numRuns: 150 },
    )
  })

  it('finds the first id at or after a time, and one past the last id when none is', () => {
    const db = freshDb()
    try {
      const first = (t: number) => Number((db.prepare(`SELECT ${firstIdReceivedFrom('events')} AS id`).get(t, t) as { id: number }).id)
      assert.equal(first(0), 1) // an empty table: no row from any id on
      const commit = prepareCommit(db)
      commit(
        [1000, 2000, 2000, 3000].flatMap((at, i) =>
          planWrites(record({ CallbackCommand: 'Sns.CallbackFriendAdd', N: i }, { receivedAt: at })),
        ),
      )
      assert.deepEqual([999, 1000, 1001, 2000, 2001, 3000, 3001].map(first), [1, 1, 2, 2, 4, 4, 5])
    } finally {
      db.close()
    }
  })
})
