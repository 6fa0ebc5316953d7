/**
 * The SQLite writer thread: commits run off the event loop, and when the thread fails or stops,
 * nothing hangs — unconfirmed commits reject (their callbacks get FAIL) and a new thread serves
 * the next commit.
 */
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { createStore } from '../../src/store/create-store.js'
import { planWrites, type WriteRow } from '../../src/store/records.js'
import { openSqliteBackend } from '../../src/store/sqlite-backend.js'
import { openDatabase } from '../../src/store/sqlite-driver.js'
import { SqliteWriteError, startSqliteWriter } from '../../src/store/sqlite-writer.js'
import { groupSend, record } from './helpers.js'

const dir = mkdtempSync(join(tmpdir(), 'timhook-writer-'))
after(() => rmSync(dir, { recursive: true, force: true }))
let n = 0
const fresh = () => join(dir, `w${++n}.db`)
const rowsOf = (msgSeq: number) => planWrites(record(groupSend('writer', msgSeq)))
const messageCount = (file: string) => {
  const db = openDatabase(file, { readOnly: true })
  try {
    return Number((db.prepare('SELECT COUNT(*) AS n FROM messages').get() as { n: number }).n)
  } finally {
    db.close()
  }
}

describe('SQLite writer thread', () => {
  it('commits in the thread: what resolved is in the file, read by another connection', async () => {
    const file = fresh()
    const backend = openSqliteBackend(file)
    await backend.commit(rowsOf(1))
    await Promise.all([backend.commit(rowsOf(2)), backend.commit(rowsOf(3))])
    assert.equal(messageCount(file), 3)
    assert.equal(backend.writer.starts, 1)
    await backend.close()
  })

  it('rejects a failing commit with SQLite’s error and keeps the thread for the next one', async () => {
    const file = fresh()
    const backend = openSqliteBackend(file)
    const bad = rowsOf(1).map((r) => (r.kind === 'event' ? ({ ...r, command: null } as unknown as WriteRow) : r))
    await assert.rejects(backend.commit(bad), (err: unknown) => err instanceof SqliteWriteError && err.code === 'SQLITE_CONSTRAINT_NOTNULL')
    await backend.commit(rowsOf(2))
    assert.equal(messageCount(file), 1) // the failed batch left nothing behind (all or nothing)
    assert.equal(backend.writer.starts, 1)
    await backend.close()
  })

  it('starts its thread at once, rejects the commits of a thread that cannot start with the cause, and starts a new thread for the next commit', async () => {
    const sub = join(dir, 'later')
    const file = join(sub, 'w.db')
    const writer = startSqliteWriter(file)
    assert.equal(writer.starts, 1) // started with the writer, before any commit
    await assert.rejects(
      writer.commit(rowsOf(1)),
      /SQLite writer thread stopped \(cannot open SQLite database .*w\.db: directory does not exist\) before confirming/,
    )
    assert.equal(writer.thread, undefined)
    const starts = writer.starts
    mkdirSync(sub)
    await openSqliteBackend(file).close() // creates the tables
    await writer.commit(rowsOf(2))
    assert.equal(writer.starts, starts + 1)
    assert.equal(messageCount(file), 1)
    await writer.close()
  })

  it('settles every commit when the thread is stopped mid-stream, and the next write goes through a new thread', async () => {
    const file = fresh()
    const backend = openSqliteBackend(file)
    const store = createStore(backend)
    await store.write(record(groupSend('writer', 1)))
    const first = backend.writer.thread!
    const inFlight = [2, 3, 4].map((seq) => store.write(record(groupSend('writer', seq))))
    await new Promise((resolve) => setImmediate(resolve)) // the batch is handed to the thread
    first.ref() // the thread may have answered already and be idle (unref'd): keep the process up until it exits
    await first.terminate()
    const outcomes = await Promise.allSettled(inFlight)
    for (const o of outcomes) {
      // Either confirmed before the stop, or failed with the reason: never left waiting.
      if (o.status === 'rejected') assert.match(String(o.reason), /SQLite writer thread stopped/)
    }
    await store.write(record(groupSend('writer', 5)))
    assert.equal(backend.writer.starts, 2)
    assert.notEqual(backend.writer.thread, first)
    const confirmed = outcomes.filter((o) => o.status === 'fulfilled').length
    assert.ok(messageCount(file) >= 2 + confirmed) // #1, #5 and every confirmed one are stored
    await store.close()
  })

  it('fails commits waiting on a thread stopped while blocked on a lock; the data is committed by a new thread', async () => {
    const file = fresh()
    const backend = openSqliteBackend(file, { busyTimeoutMs: 60_000 })
    await backend.commit(rowsOf(1))
    const blocker = openDatabase(file)
    blocker.exec('BEGIN IMMEDIATE') // holds the write lock: the thread's next commit waits
    const thread = backend.writer.thread!
    const waiting = backend.commit(rowsOf(2))
    thread.ref() // the commit may be answered before the thread stops: keep the process up until it exits
    const exited = thread.terminate()
    blocker.exec('ROLLBACK')
    blocker.close()
    await exited
    const outcome = await waiting.then(
      () => 'confirmed',
      (err: unknown) => String(err),
    )
    if (outcome !== 'confirmed') assert.match(outcome, /SQLite writer thread stopped/)
    await backend.commit(rowsOf(2)) // a redelivery: idempotent
    assert.equal(messageCount(file), 2)
    assert.equal(backend.writer.starts, 2)
    await backend.close()
  })

  it('refuses commits after close', async () => {
    const backend = openSqliteBackend(fresh())
    await backend.commit(rowsOf(1))
    await backend.close()
    await assert.rejects(backend.commit(rowsOf(2)), /closed/)
  })
})
