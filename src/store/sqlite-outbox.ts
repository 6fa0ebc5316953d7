/**
 * The sinks' outbox over a SQLite store, served by a thread of its own (sqlite-outbox-thread.ts).
 */
import { ReplayError, type Outbox } from '../sinks/outbox.js'
import type { FromOutbox, ToOutbox } from './sqlite-outbox-thread.js'
import { spawnThread } from './spawn-thread.js'

/**
 * Opens the outbox of a SQLite store file (its tables come with the store's migrations: open the store first).
 * @example const outbox = openSqliteOutbox('./timhook.db')
 */
export function openSqliteOutbox(path: string): Outbox {
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>()
  let next = 1
  let closed = false
  const w = spawnThread(import.meta.url, 'sqlite-outbox-thread', { path })
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
  const call = <T>(op: ToOutbox['op'], ...args: unknown[]): Promise<T> => {
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
    read: (p, limit) => call('read', p, limit),
    lease: (sink, holder, ttl, start) => call('lease', sink, holder, ttl, start),
    release: (sink, holder) => call('release', sink, holder),
    advance: (sink, holder, epoch, p, dead) => call('advance', sink, holder, epoch, p, dead),
    lag: (p, cap) => call('lag', p, cap),
    async replay(sink, from) {
      const r = await call<{ position: string; epoch: number } | string>('replay', sink, from)
      if (typeof r === 'string') throw new ReplayError(r)
      return r
    },
    status: () => call('status'),
    deadLetters: (sink, limit) => call('deadLetters', sink, limit),
    redrive: (sink, ids) => call('redrive', sink, ids),
    redrives: (sink, limit) => call('redrives', sink, limit),
    settleRedrive: (sink, id, failure) => call('settleRedrive', sink, id, failure),
    async close() {
      if (closed) return
      closed = true
      if (failure !== undefined) return
      const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()))
      await call('close').catch(() => {})
      // Kept alive until the thread has closed its connection and exited.
      w.ref()
      const t = setTimeout(() => void w.terminate(), 5000)
      await exited
      clearTimeout(t)
    },
  }
}
