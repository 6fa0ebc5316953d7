/** A database made by the first schema opens under this one: migrated once, nothing recorded lost. */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import Database from 'better-sqlite3'
import pg from 'pg'
import { openStore } from '../../src/store/open-store.js'
import { POSTGRES_MIGRATIONS } from '../../src/store/postgres-migrations.js'
import { SQLITE_MIGRATIONS } from '../../src/store/sqlite-migrations.js'
import { PG_SKIP, PG_URL } from './helpers.js'

const DECISION = '{"verdict":"allow","rewritten":false,"code":null,"fallback":false,"rule":"r","action":"allow","reason":"always","dryRun":false}'
// A version-1 database: a message linked to its decision, and a decision still waiting for its message.
const V1_ROWS = [
  `INSERT INTO messages (key, send_key, family, group_id, topic_id, msg_seq, from_account, received_at, body, decision)
     VALUES ('g|g1||1', 'gs|g1||alice|5', 'group', 'g1', '', 1, 'alice', 1700000000000, '{"CallbackCommand":"Group.CallbackAfterSendMsg","GroupId":"g1","MsgSeq":1}', '${DECISION}')`,
  `INSERT INTO decisions (send_key, decision) VALUES ('gs|g1||alice|5', '${DECISION}'), ('gs|g1||alice|6', '${DECISION}')`,
]

describe('schema migrations', () => {
  it('SQLite: version 1 → 2 drops the decisions table and keeps the decisions messages hold', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'timhook-migrate-'))
    try {
      const file = join(dir, 'v1.db')
      const db = new Database(file)
      db.exec(SQLITE_MIGRATIONS[0]!)
      for (const sql of V1_ROWS) db.exec(sql)
      db.pragma('user_version = 1')
      db.close()
      const store = await openStore(file)
      try {
        const page = await store.listMessages({ limit: 10 })
        assert.equal(page.items.length, 1)
        assert.deepEqual(page.items[0]!.decision, JSON.parse(DECISION))
      } finally {
        await store.close()
      }
      const after = new Database(file, { readonly: true })
      try {
        assert.equal(after.pragma('user_version', { simple: true }), SQLITE_MIGRATIONS.length)
        assert.equal((after.prepare(`SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'decisions'`).get() as { n: number }).n, 0)
      } finally {
        after.close()
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('PostgreSQL: version 1 → 2 likewise', { skip: PG_SKIP }, async () => {
    const schema = `m_${process.pid}_${Math.random().toString(36).slice(2, 8)}`
    const client = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${schema}` })
    await client.connect()
    try {
      await client.query(`CREATE SCHEMA ${schema}`)
      await client.query(POSTGRES_MIGRATIONS[0]!)
      for (const sql of V1_ROWS) await client.query(sql)
      await client.query(`CREATE TABLE ${schema}.timhook_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)`)
      await client.query(`INSERT INTO ${schema}.timhook_migrations VALUES (1, 0)`)
      const store = await openStore(PG_URL!, { schema })
      try {
        const page = await store.listMessages({ limit: 10 })
        assert.deepEqual(page.items.map((m) => m.decision), [JSON.parse(DECISION)])
      } finally {
        await store.close()
      }
      const { rows } = await client.query(`SELECT MAX(version) AS v, to_regclass('${schema}.decisions') AS t FROM ${schema}.timhook_migrations`)
      assert.equal(rows[0].v, POSTGRES_MIGRATIONS.length)
      assert.equal(rows[0].t, null)
    } finally {
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
      await client.end()
    }
  })
})
