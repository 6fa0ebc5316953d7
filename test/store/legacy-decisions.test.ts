/** A database written before 2026-11-28 (decisions in the `decisions` table) keeps its links, and links what was waiting. */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { openStore } from '../../src/store/open-store.js'
import { openDatabase } from '../../src/store/sqlite-driver.js'
import { SQLITE_MIGRATIONS } from '../../src/store/sqlite-migrations.js'
import { groupSend, record } from './helpers.js'

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
})
