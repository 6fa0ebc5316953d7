/**
 * The admin API's reads on SQLite, off the event loop: a small pool of reader threads
 * (src/store/sqlite-reader-thread.ts), each with a read-only connection of its own (WAL lets them
 * read while the writer thread commits). The event loop only hands a query over and takes the
 * finished page back.
 *
 * Two limits keep a busy operator from costing callbacks anything:
 * - a time budget per read (`readBudgetMs`, counted from its arrival): past it the read is answered
 *   `StoreTimeoutError` (503) at once. The thread checks the same deadline on every row its
 *   statement visits and stops by itself (node:sqlite has no way to interrupt a statement from
 *   outside); one that has not stopped after a grace (`readGraceMs`) is terminated — the call
 *   returns at once, it ends at its next check — and a new thread takes its place.
 * - a limit on admin reads at once (`maxConcurrentReads`), waiting ones included, and threads
 *   still finishing an abandoned read: past it a read is refused at once with `StoreBusyError` (503).
 */
import { availableParallelism } from 'node:os'
import { StoreBusyError, StoreTimeoutError } from './store-query-error.js'
import type { BodyChunk, EventItem, MessageItem, Page, Stats } from './store.js'
import { HeldPage, type PageHolder } from './held-page.js'
import { spawnBackground, type Background, type Isolation } from './spawn-thread.js'

export interface ReaderData {
  path: string
  busyTimeoutMs: number
}

export type ReadOp =
  | { op: 'messages' | 'events'; text: string; params: Array<string | number | null>; limit: number; json?: boolean }
  | { op: 'body'; text: string; params: Array<string | number | null> }
  | { op: 'stats' }
/** Pages a child process holds (`HeldPage`) are asked for by the id of the read that rendered them. */
export type ToReader =
  | ({ type: 'read'; id: number; budgetMs: number } & ReadOp)
  | { type: 'close' }
  | { type: 'write'; id: number }
  | { type: 'fetch'; id: number }
  | { type: 'drop'; id: number }
export type FromReader =
  | { type: 'ready' }
  | {
      type: 'done'
      id: number
      value: Page<MessageItem> | Page<EventItem> | Uint8Array | BodyChunk | null | Stats | { held: number; byteLength: number }
    }
  | { type: 'written'; id: number }
  | { type: 'fetched'; id: number; bytes: Uint8Array }
  | { type: 'writeFailed'; id: number; message: string }
  | { type: 'late'; id: number }
  | { type: 'failed'; id: number; message: string }

export interface SqliteReaderOptions {
  /** Reader threads, each with its own connection. Default `defaultReaders()`: 1 on a machine of 2 cores or fewer, else 2. */
  readers?: number | undefined
  /** Longest admin read, ms (from its arrival, waiting included); past it the admin API answers 503. Default 5000. */
  readBudgetMs?: number
  /** Most admin reads at once, waiting ones included; past it the admin API answers 503 at once. Default 4. */
  maxConcurrentReads?: number
  /** How long a thread past a read's budget has to stop the statement itself before it is terminated and replaced, ms. Default 1000. */
  readGraceMs?: number
  /**
   * Where the readers run: `process` (default), each a child process started at the lowest priority
   * (every thread of it, V8's garbage-collection helpers included); `thread`, threads of this process
   * (each lowered, V8's helpers not: they are shared with the event loop).
   */
  isolation?: Isolation | undefined
}

export interface SqliteReaders {
  read(op: ReadOp): Promise<unknown>
  /** Reads admitted and not answered yet, plus threads still finishing an abandoned read. */
  readonly active: number
  /** Threads started so far (tests and the benchmark watch replacements). */
  readonly starts: number
  /** Threads with their connection open and no read. */
  readonly idle: number
  /** The reader child processes' ids (none with `isolation: 'thread'`). */
  readonly pids: number[]
  close(): Promise<void>
}

interface Job {
  id: number
  op: ReadOp
  budgetMs: number
  /** performance.now() when it arrived: the budget counts from there, waiting included. */
  arrivedAt: number
  resolve: (value: unknown) => void
  reject: (err: Error) => void
  /** Fires at the budget; then, if the thread is still on the read, at the end of the grace. */
  timer: NodeJS.Timeout | undefined
  /** True once its caller has its answer (a read past its budget is answered before its thread stops). */
  settled: boolean
  slot?: Slot
}

interface Slot {
  worker: Background
  job: Job | undefined
  /** True once the thread has opened its connection. */
  ready: boolean
  exited: Promise<void>
}

/**
 * Reader threads when none is configured: one on a machine of two cores or fewer (a second reader
 * there takes the event loop's core whenever both render a page at once), else two.
 * @example defaultReaders(2) // 1
 */
export function defaultReaders(cores = availableParallelism()): number {
  return cores <= 2 ? 1 : 2
}

/**
 * Starts the reader threads for a SQLite file (already created and migrated).
 * @example const readers = startSqliteReaders('./timhook.db'); await readers.read({ op: 'stats' })
 */
export function startSqliteReaders(path: string, options: SqliteReaderOptions & { busyTimeoutMs?: number } = {}): SqliteReaders {
  const data: ReaderData = { path, busyTimeoutMs: options.busyTimeoutMs ?? 5000 }
  const size = Math.max(1, options.readers ?? defaultReaders())
  const budgetMs = options.readBudgetMs ?? 5000
  const limit = Math.max(1, options.maxConcurrentReads ?? 4)
  const graceMs = options.readGraceMs ?? 1000
  const isolation = options.isolation ?? 'process'
  const slots: Array<Slot | undefined> = new Array<Slot | undefined>(size).fill(undefined)
  const waiting: Job[] = []
  /** Threads terminated on a read past its budget, until they exit. */
  const abandoned = new Map<Background, Promise<void>>()
  /** Reads waiting or on a thread (answered or not). */
  let admitted = 0
  let nextId = 1
  let starts = 0
  let closed = false

  const settle = (job: Job, err: Error | undefined, value?: unknown) => {
    if (job.settled) return
    job.settled = true
    if (err === undefined) job.resolve(value)
    else job.reject(err)
  }

  /** The read leaves its thread (answered, failed, or the thread stopped): the thread is free. */
  const release = (job: Job) => {
    clearTimeout(job.timer)
    admitted--
    const slot = job.slot
    job.slot = undefined
    if (slot !== undefined && slot.job === job) {
      slot.job = undefined
      // Once closing, every reader keeps this process alive until it has exited.
      if (!closed) slot.worker.unref()
    }
  }

  const start = (index: number): Slot => {
    const worker = spawnBackground(import.meta.url, 'sqlite-reader-thread', data, isolation)
    starts++
    worker.unref()
    let cause: Error | undefined
    let onExit!: () => void
    const slot: Slot = { worker, job: undefined, ready: false, exited: new Promise<void>((resolve) => (onExit = resolve)) }
    /** Questions about pages this child holds, by page id: one at a time per page. */
    const asks = new Map<number, { resolve: (m: FromReader) => void; reject: (err: Error) => void }>()
    const ask = (id: number, send: (failed: (err: Error) => void) => void) =>
      new Promise<FromReader>((resolve, reject) => {
        if (exited) return reject(new Error('the SQLite reader process stopped before it wrote the page'))
        asks.set(id, { resolve, reject })
        worker.ref()
        // Never reached the child: no answer will come.
        send((err) => answered(id)?.reject(err))
      })
    /** The question about page `id` is over: its asker, if it still waits. */
    const answered = (id: number) => {
      const a = asks.get(id)
      asks.delete(id)
      if (asks.size === 0 && slot.job === undefined && !closed) worker.unref()
      return a
    }
    let exited = false
    const holder = (id: number): PageHolder => ({
      write: async (handle) => {
        const m = await ask(id, (failed) =>
          worker.sendHandle!({ type: 'write', id } satisfies ToReader, handle, (err) => {
            drop(id)
            failed(new Error(`the connection could not be lent to the SQLite reader process (${err.message})`))
          }),
        )
        if (m.type === 'writeFailed') throw new Error(`the SQLite reader process could not write the page: ${m.message}`)
      },
      fetch: async () => {
        const m = await ask(id, () => worker.postMessage({ type: 'fetch', id } satisfies ToReader))
        if (m.type !== 'fetched')
          throw new Error(`the SQLite reader process could not send the page: ${m.type === 'writeFailed' ? m.message : m.type}`)
        return m.bytes
      },
      drop: () => drop(id),
    })
    const drop = (id: number) => worker.postMessage({ type: 'drop', id } satisfies ToReader)
    worker.on('message', (m: FromReader) => {
      if (m.type === 'ready') {
        slot.ready = true
        return
      }
      if (m.type === 'written' || m.type === 'fetched' || m.type === 'writeFailed') {
        answered(m.id)?.resolve(m)
        return
      }
      const job = slot.job
      if (job === undefined || job.id !== m.id) return
      release(job)
      if (m.type === 'done') {
        const v = m.value
        const page = v !== null && typeof v === 'object' && 'held' in v ? new HeldPage(v.byteLength, holder(v.held)) : v
        settle(job, undefined, page)
      } else if (m.type === 'late') settle(job, new StoreTimeoutError(job.budgetMs, 'stopped by its reader thread'))
      else settle(job, new Error(m.message))
      dispatch()
    })
    worker.on('error', (err) => {
      cause = err
    })
    worker.on('exit', (code) => {
      exited = true
      abandoned.delete(worker)
      const replace = slots[index] === slot
      if (replace) slots[index] = undefined
      const err = new Error(
        `the SQLite reader ${isolation === 'process' ? 'process' : 'thread'} stopped (${cause?.message ?? `exit code ${code}`})`,
        { cause },
      )
      // A thread that could not even open the file: the waiting reads fail with it too, rather
      // than starting thread after thread until their budget runs out.
      const failed = slot.job === undefined ? [] : [slot.job]
      if (!slot.ready) failed.push(...waiting.splice(0))
      for (const job of failed) {
        job.slot = slot
        release(job)
        settle(job, err)
      }
      for (const a of asks.values()) a.reject(err)
      asks.clear()
      onExit()
      // One that had been serving (killed, crashed) is replaced at once, so the next read finds a
      // reader ready (a new child process takes a moment to start); one that never got ready, only
      // when a read needs it.
      if (replace && slot.ready && !closed) start(index)
      dispatch()
    })
    slots[index] = slot
    return slot
  }

  /** Hands waiting reads to idle threads, starting threads where none runs. */
  function dispatch(): void {
    if (closed) return
    for (let i = 0; i < size && waiting.length > 0; i++) {
      const slot = slots[i] ?? start(i)
      if (slot.job !== undefined) continue
      const job = waiting.shift()!
      slot.job = job
      job.slot = slot
      slot.worker.ref()
      const left = job.budgetMs - (performance.now() - job.arrivedAt)
      slot.worker.postMessage({ type: 'read', id: job.id, budgetMs: Math.max(1, left), ...job.op } satisfies ToReader)
    }
  }

  /**
   * At the budget the caller gets its answer (503) at once. A read still waiting leaves the queue;
   * a thread still on it gets a grace to stop the statement itself (it checks the same deadline),
   * after which it is terminated — that returns at once, the thread ends at its next check — and
   * a new thread takes its place.
   */
  const expire = (job: Job) => {
    const waitingAt = waiting.indexOf(job)
    if (waitingAt >= 0) {
      waiting.splice(waitingAt, 1)
      admitted--
      settle(job, new StoreTimeoutError(job.budgetMs, 'it waited for a free reader thread'))
      return
    }
    settle(job, new StoreTimeoutError(job.budgetMs, 'its reader thread was still on it'))
    job.timer = setTimeout(() => {
      const slot = job.slot
      if (slot === undefined || slot.job !== job) return
      const index = slots.indexOf(slot)
      slot.job = undefined
      job.slot = undefined
      admitted--
      abandoned.set(slot.worker, slot.exited)
      void slot.worker.terminate()
      if (index >= 0 && !closed) start(index)
      dispatch()
    }, graceMs)
    job.timer.unref()
  }

  for (let i = 0; i < size; i++) start(i)

  return {
    read(op) {
      if (closed) return Promise.reject(new Error('the SQLite store is closed'))
      if (admitted + abandoned.size >= limit) return Promise.reject(new StoreBusyError(limit))
      admitted++
      return new Promise((resolve, reject) => {
        const job: Job = { id: nextId++, op, budgetMs, arrivedAt: performance.now(), resolve, reject, timer: undefined, settled: false }
        job.timer = setTimeout(() => expire(job), budgetMs)
        job.timer.unref()
        waiting.push(job)
        dispatch()
      })
    },
    get active() {
      return admitted + abandoned.size
    },
    get starts() {
      return starts
    },
    get pids() {
      return slots.flatMap((s) => (s?.worker.pid === undefined ? [] : [s.worker.pid]))
    },
    get idle() {
      return slots.filter((s) => s !== undefined && s.ready && s.job === undefined).length
    },
    async close() {
      closed = true
      for (const job of waiting.splice(0)) {
        clearTimeout(job.timer)
        admitted--
        settle(job, new Error('the SQLite store is closed'))
      }
      const exits: Array<Promise<void>> = []
      for (const slot of slots) {
        if (slot === undefined) continue
        exits.push(slot.exited)
        slot.worker.ref()
        if (slot.job === undefined) slot.worker.postMessage({ type: 'close' } satisfies ToReader)
        else void slot.worker.terminate()
      }
      for (const [w, exited] of abandoned) {
        w.ref()
        exits.push(exited)
      }
      await Promise.all(exits)
    },
  }
}
