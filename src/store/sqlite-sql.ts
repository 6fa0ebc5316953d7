/**
 * The SQL only the SQLite backend runs: its write path (src/store/sqlite-commit.ts) and its stats.
 * The listing queries both backends share are in src/store/sql.ts.
 */

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
      (SELECT decision FROM events WHERE idem_key = ? AND verdict IS NOT 'deny'),
      (SELECT decision FROM events WHERE idem_key = ? AND verdict IS NOT 'deny')))
  ON CONFLICT (key) DO NOTHING`
export const FIND_RECALL = `SELECT recalled_at, recalled_by FROM recalls WHERE key = ?`

export const INSERT_RECALL = `INSERT INTO recalls (key, recalled_at, recalled_by) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING`
export const MARK_RECALLED = `UPDATE messages SET recalled_at = ?, recalled_by = ? WHERE key = ? AND recalled_at IS NULL`
// A before-send's decision (as stored: the first delivery's), onto its message stored before it.
export const ATTACH_DECISION = `UPDATE messages SET decision = (SELECT decision FROM events WHERE idem_key = ? AND verdict IS NOT 'deny')
  WHERE send_key = ? AND decision IS NULL`
// Which of a batch's send keys (a JSON array) have a message stored without a decision: nearly
// always none, and one look-up statement per batch costs far less than an UPDATE per before-send.
export const FIND_WAITING = `SELECT j.key FROM json_each(?) j WHERE EXISTS (SELECT 1 FROM messages m WHERE m.send_key = j.value AND m.decision IS NULL)`
export const ADD_COUNT = `INSERT INTO counts (kind, name, n) VALUES (?, ?, ?) ON CONFLICT (kind, name) DO UPDATE SET n = counts.n + excluded.n`
export const READ_COUNTS = `SELECT kind, name, n FROM counts`

/** A condition the reader threads add to every listing: a function of theirs, called on each row visited, that ends the statement past its time budget (node:sqlite cannot interrupt one otherwise). */
export const BUDGET_GUARD = 'timhook_in_budget()'
