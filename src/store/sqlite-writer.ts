/**
 * The main-thread side of the SQLite writer thread: sends each batch to the thread and resolves
 * when its transaction is durable. The event loop keeps serving requests while the disk flushes.
 *
 * The thread starts with the writer (so with the store): the first callbacks do not wait for a
 * thread and its connection to start. If the thread stops (crash, `terminate()`, a failed start),
 * every commit it had not answered rejects — its callbacks are answered FAIL, never a false 200 —
 * and the next commit starts a new thread: a database that cannot be opened costs one failed
 * start per commit attempt (the store's retry back-off spaces them), never a loop.
 */
import type { Worker } from 'node:worker_threads'
import type { WriteRow } from './records.js'
import { spawnThread } from './spawn-thread.js'
import { packRows, type PackedRows } from './sqlite-packed-rows.js'
import type { StampShift } from './store.js'

/** What the thread is started with. */
export interface WriterData {
  path: string
  busyTimeoutMs: number
}

export type ToWriter = { type: 'commit'; id: number; values: PackedRows['values']; bytes: ArrayBuffer } | { type: 'close' }
export type FromWriter =
  | { type: 'ready' }
  | { type: 'done'; id: number; stampShift?: StampShift }
  | { type: 'failed'; id: number; message: string; code: string | undefined }

export interface SqliteWriter {
  /** Commits the rows in one transaction in the writer thread; resolves once durable, with the rows it stored later than received, if any. */
  commit(rows: WriteRow[]): Promise<StampShift | undefined>
  /** The running thread, if any (tests stop it to check what a crash does). */
  readonly thread: Worker | undefined
  /** How many threads were started so far. */
  readonly starts: number
  /** Lets the thread finish, closes its connection and waits for it to exit. */
  close(): Promise<void>
}

export interface SqliteWriterOptions {
  /** How long a commit waits for another connection's lock, ms. Default 5000. */
  busyTimeoutMs?: number
}

interface Pending {
  resolve: (shift: StampShift | undefined) => void
  reject: (err: Error) => void
}

/** The error of a failed commit, as SQLite reported it in the thread (with its result code's name, e.g. `SQLITE_BUSY`). */
export class SqliteWriteError extends Error {
  readonly code: string | undefined
  constructor(message: string, code: string | undefined) {
    super(message)
    this.name = 'SqliteWriteError'
    this.code = code
  }
}

/**
 * Starts the writer thread for a SQLite file (already created and migrated).
 * @example const writer = startSqliteWriter('./timhook.db'); await writer.commit(rows)
 */
export function startSqliteWriter(path: string, options: SqliteWriterOptions = {}): SqliteWriter {
  const data: WriterData = { path, busyTimeoutMs: options.busyTimeoutMs ?? 5000 }
  const pending = new Map<number, Pending>()
  let thread: Worker | undefined
  let exited: Promise<void> = Promise.resolve()
  let nextId = 1
  let starts = 0
  let closed = false

  const start = (): Worker => {
    const w = spawnThread(import.meta.url, 'sqlite-writer-thread', data)
    starts++
    let cause: Error | undefined
    let onExit!: () => void
    exited = new Promise<void>((resolve) => (onExit = resolve))
    w.unref() // idle, it must not keep the process alive; it is ref'd while commits wait on it
    w.on('message', (m: FromWriter) => {
      if (m.type === 'ready') return
      const p = pending.get(m.id)
      if (p === undefined) return
      pending.delete(m.id)
      if (pending.size === 0) w.unref()
      if (m.type === 'done') p.resolve(m.stampShift)
      else p.reject(new SqliteWriteError(m.message, m.code))
    })
    w.on('error', (err) => {
      cause = err
    })
    w.on('exit', (code) => {
      if (thread === w) thread = undefined
      // Commits the thread never answered may or may not be on disk: they fail (FAIL answers, redelivery is idempotent).
      const err = new Error(`the SQLite writer thread stopped (${cause?.message ?? `exit code ${code}`}) before confirming the commit`, {
        cause,
      })
      for (const p of pending.values()) p.reject(err)
      pending.clear()
      onExit()
    })
    return w
  }

  thread = start()

  return {
    commit(rows) {
      if (closed) return Promise.reject(new Error('the SQLite writer is closed'))
      const w = (thread ??= start())
      const id = nextId++
      return new Promise<StampShift | undefined>((resolve, reject) => {
        pending.set(id, { resolve, reject })
        w.ref()
        const packed = packRows(rows)
        w.postMessage({ type: 'commit', id, values: packed.values, bytes: packed.bytes } satisfies ToWriter, [packed.bytes])
      })
    },
    get thread() {
      return thread
    },
    get starts() {
      return starts
    },
    async close() {
      closed = true
      const w = thread
      if (w === undefined) return exited
      w.ref()
      w.postMessage({ type: 'close' } satisfies ToWriter)
      const t = setTimeout(() => void w.terminate(), 10_000)
      t.unref()
      await exited
      clearTimeout(t)
    },
  }
}
