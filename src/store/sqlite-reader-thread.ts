/**
 * A SQLite reader (started by `startSqliteReaders`, as a child process at the lowest priority or as a
 * thread: src/store/spawn-thread.ts): it runs the admin API's reads on a
 * read-only connection of its own, so a long listing or a large page never holds the event loop
 * that answers callbacks. One read at a time. The read gives up (answering `late`) once its
 * deadline passes: checked on every row the statement visits, by `timhook_in_budget()` in its
 * WHERE clause, and on every row returned. node:sqlite cannot interrupt a running statement, and a
 * terminated worker runs on until the statement returns to JavaScript; the guard is that return,
 * so terminating this thread (the main side does when it stops answering) takes effect at once.
 *
 * A page is cut here to what the admin API answers (`fitPage`, 1 MiB of JSON), so the event loop
 * receives one page's worth of items, never `limit` large bodies; for the admin API it is rendered
 * and UTF-8-encoded here too (`pageJson`), and the bytes are moved to the event loop, not copied:
 * the event loop only writes them (no string to copy, measure or encode there). As a thread it runs at
 * the lowest priority it can get (src/store/thread-priority.ts): on a busy machine the event loop
 * that answers callbacks comes first, and a reader only uses CPU time nothing else wants.
 */
import { Socket, type SocketConstructorOpts } from 'node:net'
import { data, inChildProcess, port } from './background-port.js'
import * as sql from './sql.js'
import { fitPage, pageJson } from './page-json.js'
import { openDatabase } from './sqlite-driver.js'
import type { FromReader, ReaderData, ToReader } from './sqlite-reader.js'
import * as sqliteSql from './sqlite-sql.js'
import { lowerThisThread } from './thread-priority.js'
import type { Page, Stats } from './store.js'

const { path, busyTimeoutMs } = data as ReaderData
// A child process was started at the lowest priority already, every thread of it.
if (!inChildProcess) lowerThisThread()
const db = openDatabase(path, { busyTimeoutMs }, (db) => db.exec('PRAGMA query_only = ON'))

class Late extends Error {}

let deadline = Infinity
db.function('timhook_in_budget', () => {
  if (performance.now() > deadline) throw new Late()
  return 1
})

function rows(text: string, params: Array<string | number | null>): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = []
  for (const row of db.prepare(text).iterate(...params)) {
    if (performance.now() > deadline) throw new Late()
    out.push(row as Record<string, unknown>)
  }
  return out
}

/** The stats from the maintained counts: one row per counted name. Objects built with fromEntries keep any name, `__proto__` included. */
function stats(): Stats {
  const counts = rows(sqliteSql.READ_COUNTS, [])
  const of = (kind: string) =>
    Object.fromEntries(counts.filter((r) => r.kind === kind).map((r) => [String(r.name), Number(r.n)])) as Record<string, number>
  const byCommand = of('command')
  const messages = of('messages')
  return {
    events: { total: Object.values(byCommand).reduce((a, b) => a + b, 0), byCommand },
    decisions: { byVerdict: of('verdict'), byRule: of('rule') },
    rejections: { byCause: of('rejection') },
    messages: {
      total: messages.total ?? 0,
      recalled: messages.recalled ?? 0,
      recallsAwaitingMessage: messages.recallsAwaitingMessage ?? 0,
    },
  }
}

const utf8 = new TextEncoder()

/** A page for the main thread: the admin API's JSON as UTF-8 (an array of its own, moved across), or the items that fit in it. */
const listing = <T extends { id: string }>(page: Page<T>, json: boolean): Page<T> | Uint8Array =>
  json ? utf8.encode(pageJson(page)) : fitPage(page)

/** Whole arrays are moved to the main thread rather than copied (a body chunk from SQLite or a rendered page). */
const movable = (value: unknown): ArrayBuffer[] => {
  const bytes = value instanceof Uint8Array ? value : (value as { chunk?: unknown } | null)?.chunk
  return bytes instanceof Uint8Array &&
    bytes.byteOffset === 0 &&
    bytes.byteLength === bytes.buffer.byteLength &&
    bytes.buffer instanceof ArrayBuffer
    ? [bytes.buffer]
    : []
}

/**
 * Pages a child process keeps until serve lends it the connection to write them to (src/store/held-page.ts),
 * by id; one forgotten (its request gone without a word) is dropped after `HOLD_MS`.
 */
const held = new Map<number, { bytes: Uint8Array; timer: NodeJS.Timeout }>()
const HOLD_MS = 60_000
/** The longest a child spends writing one page into a connection whose client does not read. */
const WRITE_MS = 60_000

function hold(id: number, bytes: Uint8Array): void {
  const timer = setTimeout(() => held.delete(id), HOLD_MS)
  timer.unref()
  held.set(id, { bytes, timer })
}

function take(id: number): Uint8Array | undefined {
  const page = held.get(id)
  if (page === undefined) return undefined
  clearTimeout(page.timer)
  held.delete(id)
  return page.bytes
}

/** Writes a held page into the connection behind `handle` (lent by serve, which wrote the headers), then lets go of it: closing this copy of the socket ends nothing. */
function writePage(id: number, handle: unknown): void {
  const bytes = take(id)
  if (bytes === undefined || handle === undefined) {
    port.postMessage({ type: 'writeFailed', id, message: 'the page is no longer held' } satisfies FromReader)
    return
  }
  // How Node itself builds a socket from a handle sent over IPC (`handle` is missing from the option
  // types). Not readable: serve stays the only reader of the connection.
  const socket = new Socket({ handle, readable: false, writable: true } as unknown as SocketConstructorOpts)
  let answered = false
  const answer = (err: Error | null | undefined) => {
    if (answered) return
    answered = true
    clearTimeout(timer)
    socket.destroy()
    port.postMessage(
      err ? ({ type: 'writeFailed', id, message: err.message } satisfies FromReader) : ({ type: 'written', id } satisfies FromReader),
    )
  }
  const timer = setTimeout(() => answer(new Error(`the client did not take the page within ${WRITE_MS} ms`)), WRITE_MS)
  socket.on('error', answer)
  socket.write(bytes, answer)
}

// Ready before the listener: a child's messages that arrived meanwhile are handed to it at once,
// and the answer to one of them must not reach serve before this does.
port.postMessage({ type: 'ready' } satisfies FromReader)
port.on('message', (m: ToReader, handle?: unknown) => {
  if (m.type === 'close') {
    db.close()
    port.close()
    return
  }
  if (m.type === 'write') return writePage(m.id, handle)
  if (m.type === 'fetch') {
    const bytes = take(m.id)
    port.postMessage(
      bytes === undefined
        ? ({ type: 'writeFailed', id: m.id, message: 'the page is no longer held' } satisfies FromReader)
        : ({ type: 'fetched', id: m.id, bytes } satisfies FromReader),
    )
    return
  }
  if (m.type === 'drop') {
    take(m.id)
    return
  }
  deadline = performance.now() + m.budgetMs
  try {
    const value =
      m.op === 'stats'
        ? stats()
        : m.op === 'body'
          ? sql.bodyChunk(rows(m.text, m.params))
          : m.op === 'messages'
            ? listing(sql.messagePage(rows(m.text, m.params), m.limit), m.json === true)
            : listing(sql.eventPage(rows(m.text, m.params), m.limit), m.json === true)
    if (inChildProcess && value instanceof Uint8Array) {
      // A rendered page stays here until serve lends this process the connection to write it to.
      hold(m.id, value)
      port.postMessage({ type: 'done', id: m.id, value: { held: m.id, byteLength: value.byteLength } } satisfies FromReader)
      return
    }
    port.postMessage({ type: 'done', id: m.id, value } satisfies FromReader, movable(value))
  } catch (err) {
    deadline = Infinity
    if (err instanceof Late) port.postMessage({ type: 'late', id: m.id } satisfies FromReader)
    else port.postMessage({ type: 'failed', id: m.id, message: err instanceof Error ? err.message : String(err) } satisfies FromReader)
  }
})
