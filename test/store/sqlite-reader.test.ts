/**
 * SQLite admin reads run in reader threads with a time budget per read and a limit on reads at
 * once: past either, the read fails with an error the admin API answers 503, and the threads keep
 * serving. Slow reads here are statements written to be slow (a recursive count), run through the
 * readers as the listings are.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { createStore } from '../../src/store/create-store.js'
import { HeldPage } from '../../src/store/held-page.js'
import { PAGE_BYTES, pageJson } from '../../src/store/page-json.js'
import { openSqliteBackend } from '../../src/store/sqlite-backend.js'
import { defaultReaders, startSqliteReaders, type ReadOp } from '../../src/store/sqlite-reader.js'
import { BUDGET_GUARD } from '../../src/store/sqlite-sql.js'
import { StoreBusyError, StoreTimeoutError } from '../../src/store/store-query-error.js'
import { allPages, groupSend, record } from './helpers.js'

const dir = mkdtempSync(join(tmpdir(), 'timhook-reader-'))
after(() => rmSync(dir, { recursive: true, force: true }))
let n = 0
const fresh = () => join(dir, `r${++n}.db`)

/** Resolves once `condition` holds, checked after each turn of the event loop (threads report through it). */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5))
}

const COLUMNS = `x AS id, '{}' AS body, 0 AS received_at, NULL AS recalled_at, NULL AS recalled_by, NULL AS decision`
/** Rows without end, each visited through the guard, as a listing's rows are. */
const endless: ReadOp = {
  op: 'messages',
  text: `WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE ${BUDGET_GUARD}) SELECT ${COLUMNS} FROM c WHERE x < 0`,
  params: [],
  limit: 10,
}
/** One long step that never calls back into JavaScript (no guard): only terminating the thread ends the read. */
const oneLongStep: ReadOp = {
  op: 'messages',
  text: `WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 5000000) SELECT max(x) AS x, '{}' AS body, 0 AS received_at, NULL AS recalled_at, NULL AS recalled_by, NULL AS decision, max(x) AS id FROM c`,
  params: [],
  limit: 10,
}

describe('SQLite reader threads', () => {
  it('answer listings and stats from their own connections', async () => {
    const backend = openSqliteBackend(fresh())
    const store = createStore(backend)
    await store.write(record(groupSend('@reader', 1)))
    const page = await store.listMessages({ groupId: '@reader', limit: 10 })
    assert.equal(page.items.length, 1)
    assert.equal((await store.stats()).messages.total, 1)
    assert.equal(backend.readers.starts, defaultReaders()) // the default pool, started with the store
    await store.close()
  })

  it('default to one thread on two cores or fewer, two above', () => {
    assert.deepEqual([1, 2, 3, 4, 64].map(defaultReaders), [1, 1, 2, 2, 2])
  })

  it('cut a page to the admin API’s byte budget in the thread; following nextCursor gives every item once', async () => {
    const backend = openSqliteBackend(fresh())
    const store = createStore(backend)
    const text = 'x'.repeat(59_990) + '今晚' // under the inline limit: each message is ~60 KB of JSON, not all ASCII
    await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        store.write(record(groupSend('@big', i + 1, { MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: text } }] }))),
      ),
    )
    const first = await store.listMessages({ groupId: '@big', limit: 30 })
    assert.ok(first.items.length < 30 && first.items.length > 1, `${first.items.length} items`)
    assert.ok(Buffer.byteLength(JSON.stringify(first.items)) <= PAGE_BYTES + 1000)
    assert.notEqual(first.nextCursor, null)
    const seqs = (
      await allPages((cursor) => store.listMessages({ groupId: '@big', limit: 30, ...(cursor === undefined ? {} : { cursor }) }))
    ).map((m) => m.MsgSeq)
    assert.deepEqual(
      seqs,
      Array.from({ length: 30 }, (_, i) => 30 - i),
    )
    // The admin API's answer, rendered and encoded in the thread, is the same page as UTF-8 JSON bytes.
    // (A reader child process keeps the bytes and hands them over when asked: HeldPage.)
    const decoded = async (x: string | Uint8Array | HeldPage) => {
      assert.ok(x instanceof Uint8Array || x instanceof HeldPage, 'SQLite hands the page over as bytes')
      const bytes = x instanceof HeldPage ? await x.bytes() : x
      if (x instanceof HeldPage) assert.equal(bytes.byteLength, x.byteLength)
      return Buffer.from(bytes).toString('utf8')
    }
    for (const q of [{ groupId: '@big', limit: 30 }, { limit: 5 }])
      assert.equal(await decoded(await store.listMessagesJson(q)), pageJson(await store.listMessages(q)))
    assert.equal(await decoded(await store.listEventsJson({ limit: 40 })), pageJson(await store.listEvents({ limit: 40 })))
    await store.close()
  })

  it('stop a read past its budget with StoreTimeoutError naming the budget; the thread stops by itself and is free again', async () => {
    const backend = openSqliteBackend(fresh(), { readBudgetMs: 150, readers: 1, readGraceMs: 60_000 })
    try {
      await assert.rejects(
        backend.readers.read(endless),
        (err: unknown) => err instanceof StoreTimeoutError && err.budgetMs === 150 && /150 ms budget/.test(err.message),
      )
      await until(() => backend.readers.active === 0) // the thread answers once it has stopped the statement
      assert.equal(backend.readers.idle, 1) // free for the next read
      assert.equal(backend.readers.starts, 1) // not replaced: it stopped the statement itself
    } finally {
      await backend.close()
    }
  })

  it('terminate and replace a thread caught in one long step; the read fails at its budget, and others are served meanwhile', async () => {
    const backend = openSqliteBackend(fresh(), { readBudgetMs: 400, readGraceMs: 50, readers: 1, maxConcurrentReads: 3 })
    await assert.rejects(
      backend.readers.read(oneLongStep),
      (err: unknown) => err instanceof StoreTimeoutError && /reader thread was still on it/.test(err.message),
    )
    await until(() => backend.readers.starts === 2) // after the grace, a new thread takes the place of the one still in its statement
    await until(() => backend.readers.idle === 1)
    assert.equal((await backend.stats()).messages.total, 0) // served by the new thread
    await backend.close() // waits for the abandoned thread too
    assert.equal(backend.readers.active, 0)
  })

  it('refuse a read at once with StoreBusyError past the limit of reads at once, waiting ones included', async () => {
    const backend = openSqliteBackend(fresh(), { readBudgetMs: 1000, readers: 1, maxConcurrentReads: 2, readGraceMs: 60_000 })
    try {
      const running = backend.readers.read(endless)
      const waiting = backend.readers.read(endless)
      await assert.rejects(
        backend.readers.read({ op: 'stats' }),
        (err: unknown) => err instanceof StoreBusyError && err.limit === 2 && /2 admin reads are running already/.test(err.message),
      )
      await assert.rejects(running, StoreTimeoutError)
      // Its budget counted from its arrival, waiting included: it fails about when the first does
      // (still waiting, or just handed to the thread as the first one left it).
      await assert.rejects(waiting, StoreTimeoutError)
      await until(() => backend.readers.active === 0 && backend.readers.idle === 1)
      assert.equal((await backend.stats()).events.total, 0) // admitted again once the others are done
    } finally {
      await backend.close()
    }
  })

  it('fail reads with the cause when a thread cannot open the file, without restarting in a loop', async () => {
    const readers = startSqliteReaders(join(dir, 'missing', 'x.db'), { readers: 1 })
    await assert.rejects(
      readers.read({ op: 'stats' }),
      /SQLite reader process stopped \(cannot open SQLite database .*x\.db: directory does not exist\)/,
    )
    assert.ok(readers.starts <= 2, `${readers.starts} starts`)
    await readers.close()
  })
})
