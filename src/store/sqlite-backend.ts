/**
 * SQLite through Node's built-in `node:sqlite` (src/store/sqlite-driver.ts): WAL with
 * `synchronous = FULL`, so a committed transaction survives a power cut, and one transaction per
 * batch so one fsync serves the whole batch.
 *
 * Three kinds of connection, none of them on the event loop's critical path:
 * - writes run in the writer thread (src/store/sqlite-writer.ts): the fsync blocks that thread,
 *   not the event loop that answers callbacks;
 * - the admin API's reads (listings, stats) run in reader threads (src/store/sqlite-reader.ts),
 *   with a time budget each and a limit on how many run at once;
 * - the main thread keeps one read-only connection for readiness (`SELECT 1`, microseconds).
 * WAL lets the readers run while the writer commits.
 */
import type { HeldPage } from './held-page.js'
import type { StoreBackend } from './create-store.js'
import type { WriteRow } from './records.js'
import * as sql from './sql.js'
import { immediate, openDatabase, pragma, type DatabaseSync } from './sqlite-driver.js'
import { SQLITE_MIGRATIONS } from './sqlite-migrations.js'
import { sqliteEventSelect, sqliteMessageSelect } from './sqlite-sql.js'
import { startSqliteReaders, type SqliteReaderOptions, type SqliteReaders } from './sqlite-reader.js'
import { startSqliteWriter, type SqliteWriter, type SqliteWriterOptions } from './sqlite-writer.js'
import type { BodyChunk, EventItem, MessageItem, Page, StampShift, Stats } from './store.js'

export type SqliteOptions = SqliteWriterOptions & SqliteReaderOptions

/** The SQLite backend: its commits and admin reads are asynchronous (they run in threads). */
export interface SqliteBackend extends StoreBackend {
  readonly writer: SqliteWriter
  readonly readers: SqliteReaders
  commit(rows: WriteRow[]): Promise<StampShift | undefined>
  close(): Promise<void>
}

type Params = Array<string | number | null>

/**
 * Opens (and creates or migrates) a SQLite database file, and starts its writer and reader threads.
 * @example const store = createStore(openSqliteBackend('./timhook.db'))
 */
export function openSqliteBackend(path: string, options: SqliteOptions = {}): SqliteBackend {
  const db = openDatabase(path, { busyTimeoutMs: 5000 }, (db) => {
    db.exec('PRAGMA journal_mode = WAL')
    // Migrations run here, before the threads start, so a file newer than this timhook is refused at open.
    migrate(db)
    db.exec('PRAGMA query_only = ON')
  })
  const writer = startSqliteWriter(path, options)
  const readers = startSqliteReaders(path, options)
  const ping = db.prepare('SELECT 1')

  return {
    kind: 'sqlite',
    writer,
    readers,
    commit: (batch) => writer.commit(batch),
    // The SQL is built here (a malformed cursor is a StoreQueryError at once); the thread runs it and builds the page.
    listMessages(q) {
      const s = sqliteMessageSelect(q)
      return readers.read({ op: 'messages', text: s.text, params: s.params as Params, limit: q.limit }) as Promise<Page<MessageItem>>
    },
    listEvents(q) {
      const s = sqliteEventSelect(q)
      return readers.read({ op: 'events', text: s.text, params: s.params as Params, limit: q.limit }) as Promise<Page<EventItem>>
    },
    listMessagesJson(q) {
      const s = sqliteMessageSelect(q)
      return readers.read({ op: 'messages', text: s.text, params: s.params as Params, limit: q.limit, json: true }) as Promise<
        Uint8Array | HeldPage
      >
    },
    listEventsJson(q) {
      const s = sqliteEventSelect(q)
      return readers.read({ op: 'events', text: s.text, params: s.params as Params, limit: q.limit, json: true }) as Promise<
        Uint8Array | HeldPage
      >
    },
    readBody(kind, id, offset, length) {
      const s = sql.bodyChunkSelect(kind, id, offset, length)
      return readers.read({ op: 'body', text: s.text, params: s.params as Params }) as Promise<BodyChunk | null>
    },
    stats: () => readers.read({ op: 'stats' }) as Promise<Stats>,
    ping() {
      ping.get()
    },
    async close() {
      await Promise.all([writer.close(), readers.close()])
      if (db.isOpen) db.close()
    },
  }
}

/** Applies the pending migrations in one transaction; the version is read inside it, so two processes opening a new file at once migrate it once. */
function migrate(db: DatabaseSync): void {
  immediate(db, () => {
    const version = Number(pragma(db, 'user_version'))
    if (version > SQLITE_MIGRATIONS.length) {
      throw new Error(
        `the database schema is version ${version}, newer than this timhook knows (${SQLITE_MIGRATIONS.length}); upgrade timhook`,
      )
    }
    for (let v = version; v < SQLITE_MIGRATIONS.length; v++) db.exec(SQLITE_MIGRATIONS[v]!)
    db.exec(`PRAGMA user_version = ${SQLITE_MIGRATIONS.length}`)
  })
}
