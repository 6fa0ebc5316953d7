/** A database written before 2026-11-28 (decisions in the `decisions` table) keeps its links, and links what was waiting. */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import pg from 'pg'
import { openStore } from '../../src/store/open-store.js'
import { POSTGRES_MIGRATIONS } from '../../src/store/postgres-migrations.js'
import { openDatabase } from '../../src/store/sqlite-driver.js'
import { SQLITE_MIGRATIONS } from '../../src/store/sqlite-migrations.js'
import { groupSend, PG_SKIP, PG_URL, record } from './helpers.js'

const DECISION = '{"verdict":"allow","rewritten":false,"code":null,"fallback":false,"rule":"r","action":"allow","reason":"always","dryRun":false}'
// A version-1 database: a message linked to its decision, and a decision still waiting for its message.
const V1_ROWS = [
  `INSERT INTO messages (key, send_key, family, group_id, topic_id, msg_seq, from_account, received_at, body, decision)
     VALUES ('g|g1||1', 'gs|g1||alice|5', 'group', 'g1', '', 1, 'alice', 1700000000000, '{"CallbackCommand":"Group.CallbackAfterSendMsg","GroupId":"g1","MsgSeq":1}', '${DECISION}')`,
  `INSERT INTO decisions (send_key, decision) VALUES ('gs|g1||alice|5', '${DECISION}'), ('gs|g1||alice|6', '${DECISION}')`,
]

describe('a database written before decisions moved to the event rows', () => {
  it('SQLite: messages keep their decisions, and a decision still waiting in the decisions table reaches its message', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'timhook-migrate-'))
    try {
      const file = join(dir, 'v1.db')
      const db = openDatabase(file)
      db.exec(SQLITE_MIGRATIONS[0]!)
      for (const sql of V1_ROWS) db.exec(sql)
      db.exec('PRAGMA user_version = 1')
      db.close()
      const store = await openStore(file)
      try {
        await store.write(record(groupSend('g1', 2, { Random: 6 })))
        await store.write(record(groupSend('g1', 3, { Random: 7 })))
        const page = await store.listMessages({ groupId: 'g1', limit: 10 })
        assert.deepEqual(page.items.map((m) => m.decision), [null, JSON.parse(DECISION), JSON.parse(DECISION)], 'newest first: Random 7 had no decision')
      } finally {
        await store.close()
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('PostgreSQL: likewise', { skip: PG_SKIP }, async () => {
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
        await store.write(record(groupSend('g1', 2, { Random: 6 })))
        await store.write(record(groupSend('g1', 3, { Random: 7 })))
        const page = await store.listMessages({ groupId: 'g1', limit: 10 })
        assert.deepEqual(page.items.map((m) => m.decision), [null, JSON.parse(DECISION), JSON.parse(DECISION)])
      } finally {
        await store.close()
      }
    } finally {
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
      await client.end()
    }
  })
})
