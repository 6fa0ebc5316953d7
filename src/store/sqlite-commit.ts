/**
 * The SQLite write path: prepared statements and the one-transaction-per-batch commit. Runs in
 * the writer thread (src/store/sqlite-writer-thread.ts), the only connection that writes.
 */
import type { WriteRow } from './records.js'
import { asStored, immediate, type DatabaseSync } from './sqlite-driver.js'
import * as sql from './sqlite-sql.js'
import { STAMP_SHIFT_REPORTED_MS, type StampShift } from './store.js'

/**
 * Pages the WAL grows to before the writer copies them back into the database file (SQLite's
 * default is 1000). A page rewritten by many commits in between — the tables' and the append-only
 * indexes' last pages, the counts, the hot pages of the unique keys — is copied back once, not
 * once per 1000 pages: the commit costs ~10 % less CPU per record at 32 a batch
 * (bench/write-path.ts `--autocheckpoint`). The price: the WAL file reaches ~40 MiB (it is reused,
 * not grown further), and a restart after kill -9 replays up to that much.
 */
export const WAL_AUTOCHECKPOINT_PAGES = 10_000

/** The writer's connection settings: WAL, every commit durable before it returns, the checkpoint above. */
export function setUpWriter(db: DatabaseSync): void {
  db.exec('PRAGMA journal_mode = WAL')
  db.exec('PRAGMA synchronous = FULL')
  db.exec(`PRAGMA wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`)
}

/** What `/api/stats` counts, by kind then name; added to the `counts` table by each commit. */
class Counts {
  readonly byKind = new Map<string, Map<string, number>>()

  add(kind: string, name: string, n = 1): void {
    let names = this.byKind.get(kind)
    if (names === undefined) this.byKind.set(kind, (names = new Map()))
    names.set(name, (names.get(name) ?? 0) + n)
  }
}

/**
 * Prepares the statements and returns the batch commit: all rows in one `BEGIN IMMEDIATE`
 * transaction, all or nothing; it returns once the commit is durable (WAL, `synchronous = FULL`).
 * The counts `/api/stats` reports change in the same transaction, by what the rows changed: a
 * redelivered event or message, or a second recall of one message, counts nothing.
 * Returns the rows it stored more than STAMP_SHIFT_REPORTED_MS later than received, if any (a
 * clock set back after a forward jump), so that serve can say so; undefined otherwise.
 * @example const commit = prepareCommit(db); commit(planWrites(record))
 */
export function prepareCommit(db: DatabaseSync): (rows: WriteRow[]) => StampShift | undefined {
  const insertEvent = db.prepare(sql.INSERT_EVENT)
  const insertMessage = db.prepare(sql.INSERT_MESSAGE)
  const redelivered = db.prepare(sql.REDELIVERED)
  const findRecall = db.prepare(sql.FIND_RECALL)
  const insertRecall = db.prepare(sql.INSERT_RECALL)
  const markRecalled = db.prepare(sql.MARK_RECALLED)
  const attachDecision = db.prepare(sql.ATTACH_DECISION)
  const findWaiting = db.prepare(sql.FIND_WAITING)
  const addCount = db.prepare(sql.ADD_COUNT)
  const lastReceived = db.prepare(sql.LAST_RECEIVED)
  const lastReceivedAndWaiting = db.prepare(sql.LAST_RECEIVED_AND_WAITING)

  const apply = (rows: WriteRow[]) => {
    const counts = new Counts()
    // received_at never decreases as id grows (time filters are id ranges: sqlite-sql.ts
    // firstIdReceivedFrom): a row received before the newest stored one (its request took longer,
    // or the clock stepped back) is stored at the newest's time. Read in the transaction, so it
    // holds with another process writing the file too.
    // Send keys with a message waiting for its decision: stored by an earlier batch (one look-up)
    // or earlier in this one. A before-send attaches only to those, in place, as a per-row UPDATE did.
    // The look-up runs only when some stored message has no decision yet (read with `at`, in this
    // transaction, so exact after a restart and with another process writing the file).
    let keys: string[] | undefined
    for (const r of rows) if (r.kind === 'event' && r.sendKey !== null) (keys ??= []).push(r.sendKey)
    const last = (keys === undefined ? lastReceived : lastReceivedAndWaiting).get() as { at: number | bigint; waiting?: number | bigint }
    let at = Number(last.at)
    const stamp = (receivedAt: number) => (receivedAt > at ? (at = receivedAt) : at)
    // Rows stored later than received by more than a slow request explains: counted, not hidden.
    let shifted = 0
    let maxShift = 0
    const stored = (receivedAt: number, storedAt: number) => {
      const shift = storedAt - receivedAt
      if (shift <= STAMP_SHIFT_REPORTED_MS) return
      shifted++
      if (shift > maxShift) maxShift = shift
    }
    let messages = 0
    let recalled = 0
    let awaiting = 0
    const waiting = new Set<string>(
      keys === undefined || Number(last.waiting) === 0
        ? []
        : (findWaiting.all(JSON.stringify(keys.map(asStored))) as Array<{ key: number }>).map((r) => keys![r.key]!),
    )
    for (const r of rows) {
      switch (r.kind) {
        case 'event': {
          const storedAt = stamp(r.receivedAt)
          const inserted = insertEvent.run(
            r.idempotencyKey,
            r.command,
            r.sdkAppId,
            r.clientIp,
            r.optPlatform,
            storedAt,
            r.requestId,
            r.raw,
            r.valid ? 1 : 0,
            r.verdict,
            r.rule,
            r.decision,
          ).changes
          if (Number(inserted) === 0) redelivered.run(r.idempotencyKey)
          else {
            stored(r.receivedAt, storedAt)
            counts.add('command', r.command)
            if (r.verdict !== null) counts.add('verdict', r.verdict)
            if (r.rule !== null) counts.add('rule', r.rule)
          }
          if (r.sendKey !== null && waiting.has(r.sendKey)) attachDecision.run(r.idempotencyKey, r.sendKey)
          break
        }
        case 'message': {
          const recall = findRecall.get(r.key) as { recalled_at: number; recalled_by: string | null } | undefined
          const storedAt = stamp(r.receivedAt)
          const inserted = insertMessage.run(
            r.key,
            r.sendKey,
            r.family,
            r.groupId,
            r.topicId,
            r.msgSeq,
            r.msgKey,
            r.fromAccount,
            r.toAccount,
            r.msgTime,
            storedAt,
            r.body,
            recall?.recalled_at ?? null,
            recall?.recalled_by ?? null,
            r.decisionKey,
            r.decisionKeyBare,
          ).changes
          if (Number(inserted) === 1) {
            stored(r.receivedAt, storedAt)
            messages++
            // Its recall came first: the message is recalled, and the recall no longer awaits it.
            if (recall !== undefined) {
              recalled++
              awaiting--
            }
          }
          if (keys !== undefined) waiting.add(r.sendKey) // may be waiting (attach's UPDATE checks decision IS NULL)
          break
        }
        case 'recall':
          // Only the first recall of a message counts; it marks the message if stored (not recalled
          // yet: only a recall marks one), else it awaits it.
          if (Number(insertRecall.run(r.key, r.recalledAt, r.recalledBy).changes) === 1) {
            if (Number(markRecalled.run(r.recalledAt, r.recalledBy, r.key).changes) === 1) recalled++
            else awaiting++
          }
          break
        case 'rejection':
          counts.add('rejection', r.cause)
          break
      }
    }
    if (messages !== 0) counts.add('messages', 'total', messages)
    if (recalled !== 0) counts.add('messages', 'recalled', recalled)
    if (awaiting !== 0) counts.add('messages', 'recallsAwaitingMessage', awaiting)
    for (const [kind, names] of counts.byKind) for (const [name, n] of names) addCount.run(kind, name, n)
    return shifted === 0 ? undefined : { rows: shifted, maxShiftMs: maxShift }
  }
  return (rows) => immediate(db, () => apply(rows))
}
