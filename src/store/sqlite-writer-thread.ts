/**
 * The SQLite writer thread (a node:worker_threads worker started by `startSqliteWriter`): it owns
 * the one connection that writes, so the fsync of each commit blocks this thread and not the
 * server's event loop. Messages are handled one at a time, in order: one transaction per batch,
 * answered `done` once durable or `failed` with the error. Anything thrown outside a commit
 * (the file cannot be opened, …) ends the thread; the main side then fails its pending commits.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { prepareCommit, setUpWriter } from './sqlite-commit.js'
import { openDatabase, sqliteCode } from './sqlite-driver.js'
import { unpackRows } from './sqlite-packed-rows.js'
import type { FromWriter, ToWriter, WriterData } from './sqlite-writer.js'

const { path, busyTimeoutMs } = workerData as WriterData
const port = parentPort!
const db = openDatabase(path, { busyTimeoutMs }, setUpWriter)
const commit = prepareCommit(db)

const send = (m: FromWriter) => port.postMessage(m)

port.on('message', (m: ToWriter) => {
  if (m.type === 'close') {
    db.close()
    port.close()
    return
  }
  try {
    const stampShift = commit(unpackRows(m.values, m.bytes))
    send(stampShift === undefined ? { type: 'done', id: m.id } : { type: 'done', id: m.id, stampShift })
  } catch (err) {
    const e = err as { message?: unknown }
    send({ type: 'failed', id: m.id, message: String(e?.message ?? err), code: sqliteCode(err) })
  }
})
send({ type: 'ready' })
