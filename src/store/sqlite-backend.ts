/**
 * SQLite through better-sqlite3: WAL with `synchronous = FULL`, so a committed transaction
 * survives a power cut, and one transaction per batch so one fsync serves the whole batch.
 *
 * Writes run in a writer thread (src/store/sqlite-writer.ts): the fsync blocks that thread, not
 * the event loop that answers callbacks. Reads (admin API, stats, readiness) use a connection of
 * their own on the main thread; WAL lets them run while the writer commits.
 */
import Database from 'better-sqlite3'
import type { StoreBackend } from './create-store.js'
import type { WriteRow } from './records.js'
import * as sql from './sql.js'
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
  const db = new Database(path)
  db.pragma('journal_mode = WAL')
  db.pragma('busy_timeout = 5000')
  // Migrations run here, before the writer starts, so a file newer than this timhook is refused at open.
  migrate(db)
  db.pragma('query_only = ON')
  const writer = startSqliteWriter(path, options)

  const all = (q: sql.SqlQuery) => db.prepare(q.text).all(...q.params) as Array<Record<string, unknown>>
  const rows = (text: string) => db.prepare(text).all() as Array<Record<string, unknown>>

  return {
    kind: 'sqlite',
    writer,
    commit: (batch) => writer.commit(batch),
    listMessages: (q) => sql.messagePage(all(sql.messageSelect(q)), q.limit),
    listEvents: (q) => sql.eventPage(all(sql.eventSelect(q)), q.limit),
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
      if (db.open) db.close()
    },
  }
}

const sum = (rows: Array<Record<string, unknown>>) => rows.reduce((n, r) => n + Number(r.n), 0)

function migrate(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number
  if (version > SQLITE_MIGRATIONS.length) {
    throw new Error(`the database schema is version ${version}, newer than this timhook knows (${SQLITE_MIGRATIONS.length}); upgrade timhook`)
  }
  for (let v = version; v < SQLITE_MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(SQLITE_MIGRATIONS[v]!)
      db.pragma(`user_version = ${v + 1}`)
    }).immediate()
  }
}
