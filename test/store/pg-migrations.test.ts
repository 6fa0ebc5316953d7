/** The PostgreSQL schema: one first migration, applied once by instances starting together; a newer schema is refused. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import pg from 'pg'
import { openStore } from '../../src/store/open-store.js'
import { POSTGRES_MIGRATIONS } from '../../src/store/postgres-migrations.js'
import { PG_SKIP, PG_URL, dropSchema } from './helpers.js'

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
})
