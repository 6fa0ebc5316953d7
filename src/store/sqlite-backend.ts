/**
 * SQLite through Node's built-in `node:sqlite` (src/store/sqlite-driver.ts): WAL with `synchronous = FULL`, so a committed transaction
 * survives a power cut, and one transaction per batch so one fsync serves the whole batch.
 *
 * Writes run in a writer thread (src/store/sqlite-writer.ts): the fsync blocks that thread, not
 * the event loop that answers callbacks. Reads (admin API, stats, readiness) use a connection of
 * their own on the main thread; WAL lets them run while the writer commits.
 */
import type { StoreBackend } from './create-store.js'
import type { WriteRow } from './records.js'
import * as sql from './sql.js'
import { immediate, openDatabase, pragma, type DatabaseSync } from './sqlite-driver.js'
import { SQLITE_MIGRATIONS } from './sqlite-migrations.js'
import { startSqliteWriter, type SqliteWriter, type SqliteWriterOptions } from './sqlite-writer.js'

export type SqliteOptions = SqliteWriterOptions

/** The SQLite backend: its commits are asynchronous (they run in the writer thread). */
export interface SqliteBackend extends StoreBackend {
  readonly writer: SqliteWriter
  commit(rows: WriteRow[]): Promise<void>
  close(): Promise<void>
}

/**
 * Opens (and creates or migrates) a SQLite database file, and starts its writer thread.
 * @example const store = createStore(openSqliteBackend('./timhook.db'))
 */
export function openSqliteBackend(path: string, options: SqliteOptions = {}): SqliteBackend {
  const db = openDatabase(path, { busyTimeoutMs: 5000 }, (db) => {
    db.exec('PRAGMA journal_mode = WAL')
    // Migrations run here, before the writer starts, so a file newer than this timhook is refused at open.
    migrate(db)
    db.exec('PRAGMA query_only = ON')
  })
  const writer = startSqliteWriter(path, options)

  const all = (q: sql.SqlQuery) => db.prepare(q.text).all(...(q.params as Array<string | number | null>)) as Array<Record<string, unknown>>
  const rows = (text: string) => db.prepare(text).all() as Array<Record<string, unknown>>

  return {
    kind: 'sqlite',
    writer,
    commit: (batch) => writer.commit(batch),
    listMessages: (q) => sql.messagePage(all(sql.messageSelect(q)), q.limit),
    listEvents: (q) => sql.eventPage(all(sql.eventSelect(q)), q.limit),
    readBody: (kind, id, offset, length) => sql.bodyChunk(all(sql.bodyChunkSelect(kind, id, offset, length))),
    stats() {
      const m = rows(sql.STATS_MESSAGES)[0]!
      return {
        events: { total: sum(rows(sql.STATS_BY_COMMAND)), byCommand: sql.tally(rows(sql.STATS_BY_COMMAND)) },
        decisions: { byVerdict: sql.tally(rows(sql.STATS_BY_VERDICT)), byRule: sql.tally(rows(sql.STATS_BY_RULE)) },
        rejections: { byCause: sql.tally(rows(sql.STATS_REJECTIONS)) },
        messages: { total: Number(m.total), recalled: Number(m.recalled), recallsAwaitingMessage: Number(rows(sql.STATS_ORPHAN_RECALLS)[0]!.n) },
      }
    },
    ping() {
      db.prepare('SELECT 1').get()
    },
    async close() {
      await writer.close()
      if (db.isOpen) db.close()
    },
  }
}

const sum = (rows: Array<Record<string, unknown>>) => rows.reduce((n, r) => n + Number(r.n), 0)

/** Applies the pending migrations in one transaction; the version is read inside it, so two processes opening a new file at once migrate it once. */
function migrate(db: DatabaseSync): void {
  immediate(db, () => {
    const version = Number(pragma(db, 'user_version'))
    if (version > SQLITE_MIGRATIONS.length) {
      throw new Error(`the database schema is version ${version}, newer than this timhook knows (${SQLITE_MIGRATIONS.length}); upgrade timhook`)
    }
    for (let v = version; v < SQLITE_MIGRATIONS.length; v++) db.exec(SQLITE_MIGRATIONS[v]!)
    db.exec(`PRAGMA user_version = ${SQLITE_MIGRATIONS.length}`)
  })
}
