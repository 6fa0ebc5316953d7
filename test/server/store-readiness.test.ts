/**
 * `/readyz` tells whether commits work, on both backends, and an outage is logged as a few lines
 * (one when it starts, summaries, one when it ends), not one per failed callback. Only this test's
 * own database is disturbed: a PostgreSQL schema of its own (a table renamed, a table locked by
 * another connection), a SQLite file of its own (locked by another connection).
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import pg from 'pg'
import type { RunningServer } from '../../src/server/start-server.js'
import { dropSchema, PG_SKIP, PG_URL } from '../store/helpers.js'
import { captureLogs, groupAfterSend, postCallback, startTestServer, tempDir } from './helpers.js'

async function readyz(url: string): Promise<{ status: number; body: { ready: boolean; error?: string } }> {
  const res = await fetch(`${url}/readyz`)
  return { status: res.status, body: (await res.json()) as { ready: boolean; error?: string } }
}

/** Polls /readyz until it says `ready` (the store probes by itself: no callback needed). */
async function until(url: string, ready: boolean): Promise<void> {
  for (;;) {
    if ((await readyz(url)).body.ready === ready) return
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

const failLines = (lines: Array<Record<string, unknown>>) => lines.filter((l) => l.level === 50)

describe('readiness and outage logs (PostgreSQL)', { skip: PG_SKIP }, () => {
  const schema = `rdy_${process.pid}_${Math.random().toString(36).slice(2, 8)}`
  let server: RunningServer
  let admin: pg.Client
  after(async () => {
    await server?.close()
    await admin?.end()
    await dropSchema(schema)
  })

  it('is not ready while commits fail (a table gone), ready again once one succeeds; /healthz stays up; one log line, not one per callback', async () => {
    const logs = captureLogs()
    server = await startTestServer({ db: PG_URL, pgSchema: schema, maxPendingRecords: 2 }, logs.stream)
    admin = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${schema}` })
    await admin.connect()
    assert.equal((await postCallback(server.url, groupAfterSend('r', 1))).status, 200)
    assert.equal((await readyz(server.url)).status, 200)

    await admin.query('ALTER TABLE events RENAME TO events_away')
    const failed = await Promise.all(Array.from({ length: 20 }, (_, i) => postCallback(server.url, groupAfterSend('r', 10 + i))))
    assert.ok(failed.every((r) => r.status === 503 && r.answer.ActionStatus === 'FAIL'))
    const notReady = await readyz(server.url)
    assert.equal(notReady.status, 503)
    assert.match(String(notReady.body.error), /store commits fail: .*events/)
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200)
    const errors = failLines(logs.lines)
    assert.equal(errors.filter((l) => /store commit failed/.test(String(l.msg))).length, 1)
    // At most one: a backlog refusal before the first commit failed is logged once per interval.
    assert.ok(errors.filter((l) => l.code === 'TIMHOOK_ACK_FAILED').length <= 1, 'failed callbacks are summed up, not logged one by one')

    await admin.query('ALTER TABLE events_away RENAME TO events')
    await until(server.url, true)
    assert.ok(logs.lines.some((l) => l.msg === 'store commits work again' && Number(l.failedCallbacks) === 20))
    assert.equal((await postCallback(server.url, groupAfterSend('r', 2))).status, 200)
  })

  it('past the pending cap, an after-callback is answered FAIL at once naming TIMHOOK_STORE_BACKLOG (PostgreSQL hung by a lock)', async () => {
    await admin.query('BEGIN')
    await admin.query('LOCK TABLE messages IN ACCESS EXCLUSIVE MODE')
    try {
      const hung = [postCallback(server.url, groupAfterSend('cap', 1)), postCallback(server.url, groupAfterSend('cap', 2))]
      while (server.store.pending < 2) await new Promise((resolve) => setImmediate(resolve))
      const over = await postCallback(server.url, groupAfterSend('cap', 3))
      assert.equal(over.status, 503)
      assert.match(String(over.answer.ErrorInfo), /TIMHOOK_STORE_BACKLOG/)
      await admin.query('ROLLBACK')
      assert.deepEqual(
        (await Promise.all(hung)).map((r) => [r.status, r.answer.ErrorInfo]),
        [
          [200, ''],
          [200, ''],
        ],
      )
    } finally {
      await admin.query('ROLLBACK').catch(() => {})
    }
  })
})

describe('readiness (SQLite)', () => {
  const { dir, cleanup } = tempDir()
  let server: RunningServer
  after(async () => {
    await server?.close()
    cleanup()
  })

  it('is not ready while another connection holds the database locked, ready again once a commit succeeds', async () => {
    const file = join(dir, 'locked.db')
    server = await startTestServer({ db: file })
    assert.equal((await postCallback(server.url, groupAfterSend('s', 1))).status, 200)
    // node:sqlite (Node 22.5+), a connection of another kind than the server's.
    const { DatabaseSync } = (await import('node:sqlite' as string)) as {
      DatabaseSync: new (path: string) => { exec(sql: string): void; close(): void }
    }
    const other = new DatabaseSync(file)
    other.exec('BEGIN EXCLUSIVE')
    try {
      const res = await postCallback(server.url, groupAfterSend('s', 2))
      assert.equal(res.status, 503)
      await until(server.url, false) // once the commit gave up waiting for the lock
      const notReady = await readyz(server.url)
      assert.equal(notReady.status, 503)
      assert.match(String(notReady.body.error), /store commits fail: .*lock/i)
    } finally {
      other.exec('ROLLBACK')
      other.close()
    }
    await until(server.url, true)
    assert.equal((await postCallback(server.url, groupAfterSend('s', 3))).status, 200)
  })
})
