/**
 * The SQLite write path: prepared statements and the one-transaction-per-batch commit. Runs in
 * the writer thread (src/store/sqlite-writer-thread.ts), the only connection that writes.
 */
import type { WriteRow } from './records.js'
import * as sql from './sql.js'
import { asStored, immediate, type DatabaseSync } from './sqlite-driver.js'

/**
 * Prepares the statements and returns the batch commit: all rows in one `BEGIN IMMEDIATE`
 * transaction, all or nothing; it returns once the commit is durable (WAL, `synchronous = FULL`).
 * @example const commit = prepareCommit(db); commit(planWrites(record))
 */
export function prepareCommit(db: DatabaseSync): (rows: WriteRow[]) => void {
  const insertEvent = db.prepare(sql.INSERT_EVENT)
  const insertMessage = db.prepare(sql.INSERT_MESSAGE)
  const insertRecall = db.prepare(sql.INSERT_RECALL)
  const markRecalled = db.prepare(sql.MARK_RECALLED)
  const attachDecision = db.prepare(sql.ATTACH_DECISION)
  const findWaiting = db.prepare(sql.FIND_WAITING)
  const countRejections = db.prepare(sql.COUNT_REJECTIONS)

  const apply = (rows: WriteRow[]) => {
    const rejections = new Map<string, number>()
    // Send keys with a message waiting for its decision: stored by an earlier batch (one look-up)
    // or earlier in this one. A before-send attaches only to those, in place, as a per-row UPDATE did.
    let keys: string[] | undefined
    for (const r of rows) if (r.kind === 'event' && r.sendKey !== null) (keys ??= []).push(r.sendKey)
    const waiting = new Set<string>(keys === undefined ? [] : (findWaiting.all(JSON.stringify(keys.map(asStored))) as Array<{ key: number }>).map((r) => keys![r.key]!))
    for (const r of rows) {
      switch (r.kind) {
        case 'event':
          insertEvent.run(r.idempotencyKey, r.command, r.sdkAppId, r.clientIp, r.optPlatform, r.receivedAt, r.requestId, r.raw, r.valid ? 1 : 0, r.verdict, r.rule, r.decision)
          if (r.sendKey !== null && waiting.has(r.sendKey)) attachDecision.run(r.idempotencyKey, r.sendKey)
          break
        case 'message':
          insertMessage.run(r.key, r.sendKey, r.family, r.groupId, r.topicId, r.msgSeq, r.msgKey, r.fromAccount, r.toAccount, r.msgTime, r.receivedAt, r.body, r.key, r.key, r.decisionKey, r.decisionKeyBare, r.sendKey)
          if (keys !== undefined) waiting.add(r.sendKey) // may be waiting (attach's UPDATE checks decision IS NULL)
          break
        case 'recall':
          insertRecall.run(r.key, r.recalledAt, r.recalledBy)
          markRecalled.run(r.recalledAt, r.recalledBy, r.key)
          break
        case 'rejection':
          rejections.set(r.cause, (rejections.get(r.cause) ?? 0) + 1)
          break
      }
    }
    for (const [cause, n] of rejections) countRejections.run(cause, n)
  }
  return (rows) => immediate(db, () => apply(rows))
}
