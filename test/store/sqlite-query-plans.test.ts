/**
 * Every filter combination the admin API accepts is served by an index on SQLite: `EXPLAIN QUERY
 * PLAN` of each listing query (as the reader threads run it) must not scan `events` or `messages`.
 * The one scan allowed is the walk of the primary key newest first that a query with no narrowing
 * filter makes (nothing but `recalled=false`, which nearly every row meets): LIMIT stops it after
 * one page, and it must not sort.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { encodeCursor } from '../../src/store/cursor.js'
import type * as sql from '../../src/store/sql.js'
import { openSqliteBackend } from '../../src/store/sqlite-backend.js'
import { openDatabase, type DatabaseSync } from '../../src/store/sqlite-driver.js'
import { LAST_RECEIVED_AND_WAITING, sqliteEventSelect, sqliteMessageSelect } from '../../src/store/sqlite-sql.js'
import type { EventQuery, MessageQuery } from '../../src/store/store.js'

const dir = mkdtempSync(join(tmpdir(), 'timhook-plans-'))
after(() => rmSync(dir, { recursive: true, force: true }))

/** Every subset of the given values. */
function* subsets<T extends object>(options: Array<Partial<T>>): Generator<Partial<T>> {
  for (let mask = 0; mask < 1 << options.length; mask++) {
    yield Object.assign({}, ...options.filter((_, i) => (mask & (1 << i)) !== 0)) as Partial<T>
  }
}

const MESSAGE_FILTERS: Array<Partial<MessageQuery>> = [
  { groupId: 'g' },
  { topicId: 't' },
  { from: 'a' },
  { to: 'b' },
  { since: 1 },
  { until: 2 },
  { cursor: encodeCursor('99') },
]
const EVENT_FILTERS: Array<Partial<EventQuery>> = [
  { command: 'Group.CallbackAfterSendMsg' },
  { since: 1 },
  { until: 2 },
  { cursor: encodeCursor('99') },
]

describe('SQLite query plans', () => {
  const file = join(dir, 'plans.db')
  let db: DatabaseSync
  before(async () => {
    await openSqliteBackend(file).close() // creates the schema
    db = openDatabase(file, { readOnly: true })
    db.function('timhook_in_budget', () => 1)
  })
  after(() => db?.close())

  const plan = (q: sql.SqlQuery) =>
    (db.prepare(`EXPLAIN QUERY PLAN ${q.text}`).all(...(q.params as Array<string | number>)) as Array<{ detail: string }>).map(
      (r) => r.detail,
    )

  /** Narrowing filters: everything but the cursor and recalled=false. */
  const narrows = (q: Record<string, unknown>) =>
    Object.keys(q).some((k) => k !== 'cursor' && k !== 'limit' && !(k === 'recalled' && q.recalled === false))

  function check(table: string, q: Record<string, unknown>, steps: string[]): void {
    const scan = steps.find((s) => new RegExp(`^SCAN ${table}\\b`).test(s) && !/USING (COVERING )?INDEX/.test(s))
    const what = `${table} ${JSON.stringify(q)}: ${steps.join(' / ')}`
    if (narrows(q)) assert.equal(scan, undefined, `scans the table: ${what}`)
    else assert.ok(!steps.some((s) => /TEMP B-TREE/.test(s)), `sorts the whole table: ${what}`)
  }

  it('messages: every combination of groupId, topicId, from, to, recalled, since, until and cursor uses an index', () => {
    let n = 0
    for (const base of subsets<MessageQuery>(MESSAGE_FILTERS)) {
      for (const recalled of [undefined, true, false]) {
        const q: MessageQuery = { ...base, ...(recalled === undefined ? {} : { recalled }), limit: 50 }
        check('messages', q as unknown as Record<string, unknown>, plan(sqliteMessageSelect(q)))
        n++
      }
    }
    assert.equal(n, 128 * 3)
    // An empty topicId (messages outside any topic) is a filter the API accepts too.
    check('messages', { topicId: '' }, plan(sqliteMessageSelect({ topicId: '', limit: 50 })))
  })

  it('events: every combination of command, since, until and cursor uses an index', () => {
    let n = 0
    for (const base of subsets<EventQuery>(EVENT_FILTERS)) {
      const q: EventQuery = { ...base, limit: 50 }
      check('events', q as unknown as Record<string, unknown>, plan(sqliteEventSelect(q)))
      n++
    }
    assert.equal(n, 16)
  })

  it('the write path finds waiting messages and recalls by index', () => {
    for (const text of [
      `SELECT 1 FROM messages m WHERE m.send_key = ? AND m.decision IS NULL`,
      `UPDATE messages SET recalled_at = 1 WHERE key = ? AND recalled_at IS NULL`,
      `UPDATE messages SET decision = 'x' WHERE send_key = ? AND decision IS NULL`,
    ]) {
      const steps = plan({ text, params: ['k'] })
      assert.ok(
        steps.every((s) => !/^SCAN messages\b/.test(s) || /USING/.test(s)),
        `${text}: ${steps.join(' / ')}`,
      )
    }
    // Whether any message is waiting at all, read with the last received time: the partial index's first entry.
    const steps = plan({ text: LAST_RECEIVED_AND_WAITING, params: [] })
    assert.ok(
      steps.some((s) => /USING (COVERING )?INDEX messages_waiting\b/.test(s)),
      steps.join(' / '),
    )
  })
})
