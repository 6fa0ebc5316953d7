/**
 * PostgreSQL admin reads: their own small pool with a statement timeout (a read past it is
 * cancelled and reported as StoreTimeoutError; commits never wait for them), and every admin
 * filter served by an index (EXPLAIN over a populated schema).
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import pg from 'pg'
import { messageSelect } from '../../src/store/postgres-backend.js'
import { openStore } from '../../src/store/open-store.js'
import { eventSelect, type SqlQuery } from '../../src/store/sql.js'
import { StoreTimeoutError } from '../../src/store/store-query-error.js'
import type { EventQuery, MessageQuery, Store } from '../../src/store/store.js'
import { PG_SKIP, PG_URL, dropSchema, record } from './helpers.js'

describe('PostgreSQL admin reads', { skip: PG_SKIP }, () => {
  const schema = `adm_${process.pid}_${Math.random().toString(36).slice(2, 8)}`
  let store: Store
  let admin: pg.Client
  before(async () => {
    store = await openStore(PG_URL!, { schema, adminTimeoutMs: 300, poolSize: 4 })
    admin = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${schema}` })
    await admin.connect()
  })
  after(async () => {
    await store?.close()
    await admin?.end()
    await dropSchema(schema)
  })

  it('cancels a read past its time budget (StoreTimeoutError), and commits go on while reads wait', async () => {
    await admin.query('BEGIN')
    await admin.query('LOCK TABLE messages IN ACCESS EXCLUSIVE MODE')
    try {
      // More waiting reads than the commit pool has connections: none of them may hold one.
      const reads = Array.from({ length: 8 }, () => store.listMessages({ limit: 10 }))
      let readsDone = false
      const settledReads = Promise.allSettled(reads).then((r) => ((readsDone = true), r))
      await store.write(record({ CallbackCommand: 'State.StateChange', Info: { To_Account: 'u1', Action: 'Login' }, EventTime: 1 }))
      assert.equal(readsDone, false, 'the commit did not wait for the reads')
      const results = await settledReads
      assert.ok(
        results.every((r) => r.status === 'rejected' && r.reason instanceof StoreTimeoutError),
        'each read cancelled at its budget',
      )
      assert.match(String((results[0] as PromiseRejectedResult).reason.message), /300 ms budget/)
    } finally {
      await admin.query('ROLLBACK')
    }
    assert.equal((await store.stats()).events.byCommand['State.StateChange'], 1)
  })

  describe('every filter uses an index', () => {
    before(async () => {
      // 40,000 messages in 400 groups and 2,000 senders, a few recalled; 40,000 events of 20 commands.
      await admin.query(`INSERT INTO messages (key, family, group_id, topic_id, msg_seq, from_account, to_account, received_at, body, recalled_at)
        SELECT 'g|' || i, 'group', 'g' || (i % 400), CASE WHEN i % 50 = 0 THEN 't' || (i % 7) ELSE '' END, i, 'u' || (i % 2000), CASE WHEN i % 3 = 0 THEN 'v' || (i % 1000) END,
          1700000000000 + i * 1000, '{}', CASE WHEN i % 997 = 0 THEN 1 END
        FROM generate_series(1, 40000) i`)
      await admin.query(`INSERT INTO events (idem_key, command, sdk_app_id, received_at, request_id, raw, valid)
        SELECT 'k' || i, 'C' || (i % 20), '1', 1700000000000 + i * 1000, 'r', '\\x7b7d', 1 FROM generate_series(1, 40000) i`)
      await admin.query('ANALYZE messages; ANALYZE events')
    })

    const late = 1700000000000 + 39_990 * 1000
    const early = 1700000000000 + 10 * 1000
    const messageFilters: Array<[string, Omit<MessageQuery, 'limit'>]> = [
      ['groupId', { groupId: 'g7' }],
      ['groupId + topicId', { groupId: 'g50', topicId: 't1' }],
      ['topicId', { topicId: 't3' }],
      ['from', { from: 'u17' }],
      ['to', { to: 'v9' }],
      ['recalled', { recalled: true }],
      ['recalled=false', { recalled: false }],
      ['since', { since: late }],
      ['until', { until: early }],
      ['groupId + until', { groupId: 'g7', until: early }],
      ['no filter', {}],
    ]
    const eventFilters: Array<[string, Omit<EventQuery, 'limit'>]> = [
      ['command', { command: 'C3' }],
      ['command + until', { command: 'C3', until: early }],
      ['command + since', { command: 'C3', since: late }],
      ['since', { since: late }],
      ['until', { until: early }],
      ['no filter', {}],
    ]

    const plan = async (q: SqlQuery) => {
      let i = 0
      const text = q.text.includes('$1') ? q.text : q.text.replace(/\?/g, () => `$${++i}`)
      const { rows } = await admin.query(`EXPLAIN (FORMAT JSON) ${text}`, q.params)
      return JSON.stringify(rows[0]['QUERY PLAN'])
    }

    for (const [name, filter] of messageFilters) {
      it(`messages: ${name}`, async () => {
        const p = await plan(messageSelect({ ...filter, limit: 50 }))
        assert.doesNotMatch(p, /"Seq Scan"/, p)
        assert.match(p, /"Index (Only )?Scan( Backward)?"|"Bitmap Index Scan"/)
      })
    }
    for (const [name, filter] of eventFilters) {
      it(`events: ${name}`, async () => {
        const p = await plan(eventSelect({ ...filter, limit: 50 }))
        assert.doesNotMatch(p, /"Seq Scan"/, p)
      })
    }
  })
})
