/**
 * The SQLite outbox thread: its own connection, so the sinks' reads and cursor writes (and any
 * wait for the writer's lock) never block the event loop that answers callbacks. Cursor writes use
 * `synchronous = NORMAL`: a cursor lost in a power cut only means events delivered again.
 *
 * A `reader` thread only reads (a read-only connection) and runs at the lowest priority it can get
 * (src/store/thread-priority.ts): it never holds the write lock, so starving it delays deliveries, not commits.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { openDatabase } from './sqlite-driver.js'
import { outboxOps, type OutboxOps } from './sqlite-outbox-ops.js'
import { lowerThisThread } from './thread-priority.js'

export interface OutboxThreadData {
  path: string
  reader: boolean
}
export type ToOutbox = { id: number; op: keyof OutboxOps; args: unknown[] } | { id: number; op: 'close'; args: [] }
export type FromOutbox = { id: number; ok: true; value: unknown } | { id: number; ok: false; message: string }

const { path, reader } = workerData as OutboxThreadData
const port = parentPort!
if (reader) lowerThisThread()
const db = openDatabase(path, { busyTimeoutMs: 5000 }, (db) => {
  if (reader) {
    db.exec('PRAGMA query_only = ON')
    return
  }
  db.exec('PRAGMA synchronous = NORMAL')
  // Checkpoints are the store writer's job: none here.
  db.exec('PRAGMA wal_autocheckpoint = 0')
})
const ops = outboxOps(db)

port.on('message', (m: ToOutbox) => {
  if (m.op === 'close') {
    db.close()
    port.postMessage({ id: m.id, ok: true, value: null } satisfies FromOutbox)
    port.close()
    return
  }
  try {
    const value = (ops[m.op] as (...a: unknown[]) => unknown)(...m.args)
    port.postMessage({ id: m.id, ok: true, value } satisfies FromOutbox)
  } catch (err) {
    port.postMessage({ id: m.id, ok: false, message: err instanceof Error ? err.message : String(err) } satisfies FromOutbox)
  }
})
