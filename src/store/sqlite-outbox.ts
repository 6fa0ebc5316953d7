/**
 * The sinks' outbox over a SQLite store, served by a thread of its own (sqlite-outbox-thread.ts).
 *
 * With `lowPriorityReads` (the sinks' delivery thread uses it), the event reads — the bulk of the
 * work: rows with their bodies, copied to the delivery loops — run in a second thread at the
 * lowest priority, on a read-only connection; the cursor and lease writes stay in a thread at the
 * process's priority, because they take the store's write lock: a starved holder would stall the
 * commits callbacks wait for.
 */
import { ReplayError, type Outbox } from '../sinks/outbox.js'
import type { FromOutbox, OutboxThreadData, ToOutbox } from './sqlite-outbox-thread.js'
import { spawnThread } from './spawn-thread.js'

export interface SqliteOutboxOptions {
  /** Run `read`, `lag` and `redrives` in a thread of their own at the lowest priority. Default false. */
  lowPriorityReads?: boolean | undefined
  /**
   * Only `read`, `lag` and `redrives` (in a thread at the lowest priority): no thread for the writes,
   * which fail. For a process whose every thread runs at the lowest priority (the sinks' child
   * process): it asks its parent to write, since a starved holder of the write lock would stall commits.
   */
  readsOnly?: boolean | undefined
}

interface Channel {
  call<T>(op: ToOutbox['op'], args: unknown[]): Promise<T>
  close(): Promise<void>
}

function channel(data: OutboxThreadData): Channel {
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>()
  let next = 1
  let closed = false
  const w = spawnThread(import.meta.url, 'sqlite-outbox-thread', data)
  w.unref()
  let failure: Error | undefined
  w.on('message', (m: FromOutbox) => {
    const p = pending.get(m.id)
    if (p === undefined) return
    pending.delete(m.id)
    if (pending.size === 0) w.unref()
    if (m.ok) p.resolve(m.value)
    else p.reject(new Error(m.message))
  })
  w.on('error', (err) => {
    failure = err
  })
  w.on('exit', (code) => {
    failure ??= new Error(`the SQLite outbox thread stopped (exit code ${code})`)
    for (const p of pending.values()) p.reject(failure)
    pending.clear()
  })
  const call = <T>(op: ToOutbox['op'], args: unknown[]): Promise<T> => {
    if (failure !== undefined) return Promise.reject(failure)
    if (closed && op !== 'close') return Promise.reject(new Error('the outbox is closed'))
    const id = next++
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject })
      w.ref()
      w.postMessage({ id, op, args } as ToOutbox)
    })
  }
  return {
    call,
    async close() {
      if (closed) return
      closed = true
      if (failure !== undefined) return
      const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()))
      await call('close', []).catch(() => {})
      // Kept alive until the thread has closed its connection and exited.
      w.ref()
      const t = setTimeout(() => void w.terminate(), 5000)
      await exited
      clearTimeout(t)
    },
  }
}

/** The writes of an outbox opened `readsOnly`. */
const refused: Channel = {
  call: () => Promise.reject(new Error('this outbox only reads (opened readsOnly)')),
  close: async () => {},
}

/**
 * Opens the outbox of a SQLite store file (its tables come with the store's migrations: open the store first).
 * @example const outbox = openSqliteOutbox('./timhook.db')
 */
export function openSqliteOutbox(path: string, options: SqliteOutboxOptions = {}): Outbox {
  const readsOnly = options.readsOnly === true
  const writes: Channel = readsOnly ? refused : channel({ path, reader: false })
  const reads = options.lowPriorityReads === true || readsOnly ? channel({ path, reader: true }) : writes
  const call = <T>(op: ToOutbox['op'], ...args: unknown[]) => writes.call<T>(op, args)
  const read = <T>(op: ToOutbox['op'], ...args: unknown[]) => reads.call<T>(op, args)
  let closed = false
  return {
    read: (p, limit) => read('read', p, limit),
    lease: (sink, holder, ttl, start) => call('lease', sink, holder, ttl, start),
    release: (sink, holder) => call('release', sink, holder),
    advance: (sink, holder, epoch, p, dead) => call('advance', sink, holder, epoch, p, dead),
    lag: (p, cap) => read('lag', p, cap),
    async replay(sink, from) {
      const r = await call<{ position: string; epoch: number } | string>('replay', sink, from)
      if (typeof r === 'string') throw new ReplayError(r)
      return r
    },
    status: () => call('status'),
    deadLetters: (sink, limit) => call('deadLetters', sink, limit),
    redrive: (sink, ids) => call('redrive', sink, ids),
    redrives: (sink, limit) => read('redrives', sink, limit),
    settleRedrive: (sink, id, failure) => call('settleRedrive', sink, id, failure),
    async close() {
      if (closed) return
      closed = true
      await Promise.all([writes.close(), reads === writes ? undefined : reads.close()])
    },
  }
}
