/**
 * SQLite through better-sqlite3: WAL with `synchronous = FULL`, so a committed transaction
 * survives a power cut, and one transaction per batch so one fsync serves the whole batch.
 */
import Database from 'better-sqlite3'
import type { StoreBackend } from './create-store.js'
import type { WriteRow } from './records.js'
import * as sql from './sql.js'
import { SQLITE_MIGRATIONS } from './sqlite-migrations.js'

/**
 * Opens (and creates or migrates) a SQLite database file.
 * @example const store = createStore(openSqliteBackend('./timhook.db'))
 */
export function openSqliteBackend(path: string): StoreBackend {
  const db = new Database(path)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = FULL')
  db.pragma('busy_timeout = 5000')
  migrate(db)

  const insertEvent = db.prepare(sql.INSERT_EVENT)
  const insertMessage = db.prepare(sql.INSERT_MESSAGE)
  const insertRecall = db.prepare(sql.INSERT_RECALL)
  const markRecalled = db.prepare(sql.MARK_RECALLED)
  const insertDecision = db.prepare(sql.INSERT_DECISION)
  const attachDecision = db.prepare(sql.ATTACH_DECISION)
  const countRejections = db.prepare(sql.COUNT_REJECTIONS)

  const commit = db.transaction((rows: WriteRow[]) => {
    const rejections = new Map<string, number>()
    for (const r of rows) {
      switch (r.kind) {
        case 'event':
          insertEvent.run(r.idempotencyKey, r.command, r.sdkAppId, r.clientIp, r.optPlatform, r.receivedAt, r.requestId, r.raw, r.valid ? 1 : 0, r.verdict, r.rule, r.decision)
          break
        case 'message':
          insertMessage.run(r.key, r.sendKey, r.family, r.groupId, r.topicId, r.msgSeq, r.msgKey, r.fromAccount, r.toAccount, r.msgTime, r.receivedAt, r.body, r.key, r.key, r.sendKey)
          break
        case 'recall':
          insertRecall.run(r.key, r.recalledAt, r.recalledBy)
          markRecalled.run(r.recalledAt, r.recalledBy, r.key)
          break
        case 'decision':
          insertDecision.run(r.sendKey, r.decision)
          attachDecision.run(r.decision, r.sendKey)
          break
        case 'rejection':
          rejections.set(r.cause, (rejections.get(r.cause) ?? 0) + 1)
          break
      }
    }
    for (const [cause, n] of rejections) countRejections.run(cause, n)
  })

  const all = (q: sql.SqlQuery) => db.prepare(q.text).all(...q.params) as Array<Record<string, unknown>>
  const rows = (text: string) => db.prepare(text).all() as Array<Record<string, unknown>>

  return {
    kind: 'sqlite',
    commit: (batch) => commit.immediate(batch),
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
    close() {
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
