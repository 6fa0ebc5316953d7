/**
 * A SQLite reader thread (started by `startSqliteReaders`): it runs the admin API's reads on a
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
 * the event loop only writes them (no string to copy, measure or encode there). The thread runs at
 * the lowest priority it can get (src/store/thread-priority.ts): on a busy machine the event loop
 * that answers callbacks comes first, and a reader only uses CPU time nothing else wants.
 */
import { parentPort, workerData } from 'node:worker_threads'
import * as sql from './sql.js'
import { fitPage, pageJson } from './page-json.js'
import { openDatabase } from './sqlite-driver.js'
import type { FromReader, ReaderData, ToReader } from './sqlite-reader.js'
import * as sqliteSql from './sqlite-sql.js'
import { lowerThisThread } from './thread-priority.js'
import type { Page, Stats } from './store.js'

const { path, busyTimeoutMs } = workerData as ReaderData
const port = parentPort!
lowerThisThread()
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

port.on('message', (m: ToReader) => {
  if (m.type === 'close') {
    db.close()
    port.close()
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
    port.postMessage({ type: 'done', id: m.id, value } satisfies FromReader, movable(value))
  } catch (err) {
    deadline = Infinity
    if (err instanceof Late) port.postMessage({ type: 'late', id: m.id } satisfies FromReader)
    else port.postMessage({ type: 'failed', id: m.id, message: err instanceof Error ? err.message : String(err) } satisfies FromReader)
  }
})
port.postMessage({ type: 'ready' } satisfies FromReader)
