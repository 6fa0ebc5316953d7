/**
 * The PostgreSQL schema: migrations applied once by instances starting together; a newer schema is
 * refused; an older one is brought up to date, its rows kept and its ids continued.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import pg from 'pg'
import { openStore } from '../../src/store/open-store.js'
import { openPostgresBackend } from '../../src/store/postgres-backend.js'
import { batchParams } from '../../src/store/postgres-batch.js'
import { POSTGRES_MIGRATIONS } from '../../src/store/postgres-migrations.js'
import { planWrites } from '../../src/store/records.js'
import { PG_SKIP, PG_URL, dropSchema, record } from './helpers.js'

describe('PostgreSQL migrations', { skip: PG_SKIP }, () => {
  it('migrates once when several stores open together, and refuses a schema newer than it knows', async () => {
    const schema = `mig_${process.pid}_${Math.random().toString(36).slice(2, 8)}`
    const client = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${schema}` })
    await client.connect()
    try {
      const stores = await Promise.all(Array.from({ length: 4 }, () => openStore(PG_URL!, { schema })))
      await Promise.all(stores.map((s) => s.close()))
      const { rows } = await client.query('SELECT version FROM timhook_migrations ORDER BY version')
      assert.deepEqual(
        rows.map((r) => r.version),
        POSTGRES_MIGRATIONS.map((_, i) => i + 1),
      )
      const tables = (
        await client.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`, [schema])
      ).rows.map((r) => r.table_name)
      assert.deepEqual(tables, ['counts', 'events', 'messages', 'sink_dead_letters', 'sinks', 'timhook_migrations'])
      await client.query('INSERT INTO timhook_migrations VALUES (99, 0)')
      await assert.rejects(
        openStore(PG_URL!, { schema }),
        new RegExp(`schema ${schema} is version 99, newer than this timhook knows \\(${POSTGRES_MIGRATIONS.length}\\); upgrade timhook`),
      )
    } finally {
      await client.end()
      await dropSchema(schema)
    }
  })

  it('upgrades a schema written by migration 3: the batch function looks its sequences up once, ids continue in arrival order', async () => {
    const schema = `mig_up_${process.pid}_${Math.random().toString(36).slice(2, 8)}`
    const client = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${schema}` })
    await client.connect()
    let msgSeq = 0
    const sent = (n: number) =>
      Array.from({ length: n }, () =>
        record({ CallbackCommand: 'Group.CallbackAfterSendMsg', GroupId: 'g', MsgSeq: ++msgSeq, From_Account: 'u', MsgBody: [] }),
      ).flatMap(planWrites)
    const perRowLookup = async () =>
      (
        await client.query(`SELECT prosrc FROM pg_proc WHERE proname = 'timhook_apply_batch' AND pronamespace = $1::regnamespace`, [schema])
      ).rows[0].prosrc.includes("nextval(pg_get_serial_sequence('events', 'id'))")
    try {
      await client.query(`CREATE SCHEMA ${schema}`)
      await client.query('CREATE TABLE timhook_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)')
      for (let v = 0; v < 3; v++) {
        await client.query(POSTGRES_MIGRATIONS[v]!)
        await client.query('INSERT INTO timhook_migrations VALUES ($1, 0)', [v + 1])
      }
      await client.query('SELECT timhook_apply_batch($1::jsonb, $2::bytea, $3::jsonb, $4::jsonb)', batchParams(sent(3)))
      assert.equal(await perRowLookup(), true, 'migration 3 looks the sequence up per row')
      const backend = await openPostgresBackend(PG_URL!, { schema })
      try {
        const later = sent(3)
        await backend.commit(later)
        assert.equal(await perRowLookup(), false, 'the upgrade replaced the function')
        const { rows } = await client.query('SELECT id, request_id FROM events ORDER BY id')
        assert.equal(rows.length, 6)
        const laterIds = later.filter((r) => r.kind === 'event').map((r) => r.requestId)
        assert.deepEqual(
          rows.slice(3).map((r) => r.request_id),
          laterIds,
          'the new rows come after the old ones, in arrival order',
        )
        const messages = await client.query('SELECT count(DISTINCT id)::int AS n FROM messages')
        assert.equal(messages.rows[0].n, 6)
      } finally {
        await backend.close()
      }
    } finally {
      await client.end()
      await dropSchema(schema)
    }
  })
})
