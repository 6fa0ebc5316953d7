/**
 * The writer queue over a real SQLite file that another connection holds locked, or that refuses
 * a record (a trigger raising an error, as a CHECK constraint would): the cap holds while the
 * lock is held, and a refused record is isolated from its batch.
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { openStore } from '../../src/store/open-store.js'
import { StoreBacklogError, StoreRefusedError } from '../../src/store/store-errors.js'
import type { Store } from '../../src/store/store.js'
import { tempDir } from '../server/helpers.js'
import { groupSend, record } from './helpers.js'

type Connection = { exec(sql: string): void; close(): void }
/** A second connection, through node:sqlite (Node 22.5+): another process's view of the file. */
const connect = async (file: string): Promise<Connection> =>
  new ((await import('node:sqlite' as string)) as { DatabaseSync: new (path: string) => Connection }).DatabaseSync(file)

describe('SQLite locked or refusing', () => {
  const { dir, cleanup } = tempDir()
  const file = join(dir, 'limits.db')
  let store: Store
  before(async () => {
    store = await openStore(file, { maxPendingRecords: 10 })
  })
  after(async () => {
    await store?.close()
    cleanup()
  })

  it('while another connection holds the file locked, the cap holds: past it writes fail at once; after release every admitted write is stored once', async () => {
    await store.write(record(groupSend('locked', 0)))
    const other = await connect(file)
    other.exec('BEGIN EXCLUSIVE')
    let writes: Array<Promise<'ok'>>
    try {
      writes = Array.from({ length: 10 }, (_, i) => store.write(record(groupSend('locked', i + 1))).then(() => 'ok' as const))
      const over = await Promise.allSettled(Array.from({ length: 5 }, (_, i) => store.write(record(groupSend('locked', 100 + i)))))
      assert.ok(over.every((r) => r.status === 'rejected' && r.reason instanceof StoreBacklogError))
      assert.equal(store.pending, 10)
    } finally {
      other.exec('ROLLBACK')
      other.close()
    }
    assert.deepEqual(
      await Promise.all(writes),
      writes.map(() => 'ok'),
    )
    const seqs = (await store.listMessages({ groupId: 'locked', limit: 100 })).items.map((m) => m.MsgSeq)
    assert.deepEqual(
      seqs,
      Array.from({ length: 11 }, (_, i) => 10 - i),
    )
  })

  it('isolates a record SQLite refuses: it alone fails with the cause, counted; its batch commits', async () => {
    const other = await connect(file)
    other.exec(
      `CREATE TRIGGER poison BEFORE INSERT ON events WHEN NEW.request_id = 'poison' BEGIN SELECT RAISE(ABORT, 'poison record'); END`,
    )
    other.close()
    const good = Array.from({ length: 5 }, (_, i) => record(groupSend('poison', i + 1)))
    const bad = record(groupSend('poison', 99), { requestId: 'poison' })
    const results = await Promise.allSettled([good[0]!, good[1]!, bad, good[2]!, good[3]!, good[4]!].map((r) => store.write(r)))
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled'],
    )
    const reason = (results[2] as PromiseRejectedResult).reason as Error
    assert.ok(reason instanceof StoreRefusedError)
    assert.match(reason.message, /TIMHOOK_STORE_REFUSED: .*poison record/)
    await store.flush()
    assert.equal((await store.stats()).rejections.byCause.TIMHOOK_STORE_REFUSED, 1)
    assert.equal((await store.listMessages({ groupId: 'poison', limit: 10 })).items.length, 5)
    assert.equal(store.lastCommitError, undefined)
  })
})
