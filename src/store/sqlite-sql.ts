/**
 * The SQL only the SQLite backend runs: its write path (src/store/sqlite-commit.ts), its stats, and
 * its time filter. The listing queries both backends share are in src/store/sql.ts.
 */
import { eventSelect, messageSelect, storedDecision, type SqlQuery, type TimeFilter } from './sql.js'
import type { EventQuery, MessageQuery } from './store.js'

// A new event is inserted; a redelivery (its key stored already) changes nothing here, and
// REDELIVERED counts it. (`ON CONFLICT … DO UPDATE … RETURNING deliveries` said both in one
// statement, at twice the CPU per row: SQLite's RETURNING costs ~8 µs a row, bench/write-path.ts.)
export const INSERT_EVENT = `INSERT INTO events (idem_key, command, sdk_app_id, client_ip, opt_platform, received_at, request_id, raw, valid, verdict, rule, decision)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (idem_key) DO NOTHING`
export const REDELIVERED = `UPDATE events SET deliveries = deliveries + 1 WHERE idem_key = ?`

// A message takes its recall and decision from what was recorded before it, if anything was: the
// recall as looked up by FIND_RECALL (its values are parameters), the decision from its
// before-send's event row (found by the unique key index, with or without MsgId; a refused send's
// is not taken). A message stored already changes nothing (`changes` is 0).
export const INSERT_MESSAGE = `INSERT INTO messages (key, send_key, family, group_id, topic_id, msg_seq, msg_key, from_account, to_account, msg_time, received_at, body, recalled_at, recalled_by, decision)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, COALESCE(
      (SELECT ${storedDecision()} FROM events WHERE idem_key = ? AND verdict IS NOT 'deny'),
      (SELECT ${storedDecision()} FROM events WHERE idem_key = ? AND verdict IS NOT 'deny')))
  ON CONFLICT (key) DO NOTHING`
export const FIND_RECALL = `SELECT recalled_at, recalled_by FROM recalls WHERE key = ?`

export const INSERT_RECALL = `INSERT INTO recalls (key, recalled_at, recalled_by) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING`
export const MARK_RECALLED = `UPDATE messages SET recalled_at = ?, recalled_by = ? WHERE key = ? AND recalled_at IS NULL`
// A before-send's decision (as stored: the first delivery's), onto its message stored before it.
export const ATTACH_DECISION = `UPDATE messages SET decision = (SELECT ${storedDecision()} FROM events WHERE idem_key = ? AND verdict IS NOT 'deny')
  WHERE send_key = ? AND decision IS NULL`
// Which of a batch's send keys (a JSON array) have a message stored without a decision: nearly
// always none, and one look-up statement per batch costs far less than an UPDATE per before-send.
export const FIND_WAITING = `SELECT j.key FROM json_each(?) j WHERE EXISTS (SELECT 1 FROM messages m WHERE m.send_key = j.value AND m.decision IS NULL)`
// The newest row's received_at, events and messages alike (0 when both are empty): a batch's rows
// are stored at this time or later, so that received_at never decreases as id grows (see firstIdReceivedFrom).
export const LAST_RECEIVED = `SELECT max(ifnull((SELECT received_at FROM events ORDER BY id DESC LIMIT 1), 0),
  ifnull((SELECT received_at FROM messages ORDER BY id DESC LIMIT 1), 0)) AS at`
// The same, and whether any message at all is stored without a decision (the first entry of the
// partial index messages_waiting): when none is, FIND_WAITING would find nothing and is not run.
// Folded into the look-up every batch runs, it costs ~0.1 µs; FIND_WAITING ~0.7 µs + ~0.1 µs a key.
export const LAST_RECEIVED_AND_WAITING = `${LAST_RECEIVED}, EXISTS (SELECT 1 FROM messages WHERE decision IS NULL) AS waiting`
export const ADD_COUNT = `INSERT INTO counts (kind, name, n) VALUES (?, ?, ?) ON CONFLICT (kind, name) DO UPDATE SET n = counts.n + excluded.n`
export const READ_COUNTS = `SELECT kind, name, n FROM counts`

/** A condition the reader threads add to every listing: a function of theirs, called on each row visited, that ends the statement past its time budget (node:sqlite cannot interrupt one otherwise). */
export const BUDGET_GUARD = 'timhook_in_budget()'

/**
 * The smallest id of `table` whose `received_at` is at least the statement's parameter (bound
 * twice: `[t, t]`), or one past the last id when there is none. The writer stores `received_at`
 * non-decreasing with `id` (src/store/sqlite-commit.ts), so the rows received at or after a time
 * are the rows from that id on: a binary search over the primary key — about log2(rows) look-ups
 * of one row each (~30 for a million rows) — takes the place of an index on `received_at`, which
 * every insert paid for (bench/write-path.ts `--exec`).
 */
export function firstIdReceivedFrom(table: 'events' | 'messages'): string {
  // Each step carries whether its midpoint's row was received at or after the time (`r`), so one
  // look-up a step decides the next halving (a condition written in both CASEs ran it twice).
  const reached = (lo: string, hi: string) =>
    `(SELECT received_at FROM ${table} WHERE id >= ((${lo}) + (${hi})) / 2 ORDER BY id LIMIT 1) >= ?`
  const lo = 'CASE WHEN r THEN lo ELSE (lo + hi) / 2 + 1 END'
  const hi = 'CASE WHEN r THEN (lo + hi) / 2 ELSE hi END'
  return `(WITH RECURSIVE s(lo, hi, r) AS (
      SELECT lo, hi, ${reached('lo', 'hi')} FROM (SELECT ifnull((SELECT min(id) FROM ${table}), 0) AS lo, ifnull((SELECT max(id) FROM ${table}), 0) + 1 AS hi)
      UNION ALL
      SELECT ${lo}, ${hi}, ${reached(lo, hi)}
      FROM s WHERE lo < hi)
    SELECT max(lo) FROM s)`
}

/** SQLite's time filter: an id range (firstIdReceivedFrom), which every listing index ending in `id` serves together with its own filter. */
export const idsReceivedBetween: TimeFilter = (table, since, until) => {
  const clauses: string[] = []
  const params: unknown[] = []
  if (since !== undefined) {
    clauses.push(`id >= ${firstIdReceivedFrom(table)}`)
    params.push(since, since)
  }
  if (until !== undefined) {
    clauses.push(`id < ${firstIdReceivedFrom(table)}`)
    params.push(until, until)
  }
  return { clause: clauses.join(' AND '), params }
}

/** The messages listing as the SQLite reader threads run it: the budget guard on every row, time as an id range. */
export const sqliteMessageSelect = (q: MessageQuery): SqlQuery => messageSelect(q, BUDGET_GUARD, idsReceivedBetween)
/** The events listing as the SQLite reader threads run it. */
export const sqliteEventSelect = (q: EventQuery): SqlQuery => eventSelect(q, BUDGET_GUARD, idsReceivedBetween)
