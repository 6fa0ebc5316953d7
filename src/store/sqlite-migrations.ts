/**
 * SQLite schema, versioned with `PRAGMA user_version`: migration N runs once, when the file is
 * older than N; a file newer than this timhook is refused. Append; never edit a migration that has
 * shipped.
 *
 * Indexes: each one costs every insert, so they are chosen to serve the admin API's filters
 * (test/store/sqlite-query-plans.test.ts checks that no filter combination scans a table) and the
 * write path, and are partial where a column is NULL for a whole family of rows (C2C messages have
 * no group or topic, group messages no `To_Account`; a message with its decision needs no send-key
 * entry). Listings are newest first by id, so most indexes end with `id`. No index on
 * `received_at`: the writer stores it non-decreasing with `id`, so a time filter is an id range
 * (src/store/sqlite-sql.ts `firstIdReceivedFrom`), served by the primary key or with any index ending in `id`.
 *
 * `counts` holds what `/api/stats` reports, updated in the same transaction as the rows it counts
 * (src/store/sqlite-commit.ts): reading the stats costs one row per counted name, whatever the
 * size of the tables. Kinds: `command`, `verdict`, `rule`, `rejection` (by name), and `messages`
 * (`total`, `recalled`, `recallsAwaitingMessage`).
 */
export const SQLITE_MIGRATIONS: ReadonlyArray<string> = [
  `CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    idem_key TEXT NOT NULL UNIQUE,
    command TEXT NOT NULL,
    sdk_app_id TEXT NOT NULL,
    client_ip TEXT,
    opt_platform TEXT,
    received_at INTEGER NOT NULL,
    request_id TEXT NOT NULL,
    raw BLOB NOT NULL,
    valid INTEGER NOT NULL,
    deliveries INTEGER NOT NULL DEFAULT 1,
    verdict TEXT,
    rule TEXT,
    decision TEXT
  );
  CREATE INDEX events_command ON events (command, id);
  CREATE INDEX events_command_received ON events (command, received_at);
  CREATE INDEX events_received ON events (received_at);
  CREATE TABLE messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    send_key TEXT NOT NULL,
    family TEXT NOT NULL,
    group_id TEXT,
    topic_id TEXT,
    msg_seq INTEGER,
    msg_key TEXT,
    from_account TEXT,
    to_account TEXT,
    msg_time INTEGER,
    received_at INTEGER NOT NULL,
    body TEXT NOT NULL,
    recalled_at INTEGER,
    recalled_by TEXT,
    decision TEXT
  );
  CREATE INDEX messages_group ON messages (group_id, id) WHERE group_id IS NOT NULL;
  CREATE INDEX messages_topic ON messages (topic_id, id) WHERE topic_id IS NOT NULL;
  CREATE INDEX messages_from ON messages (from_account, id);
  CREATE INDEX messages_to ON messages (to_account, id) WHERE to_account IS NOT NULL;
  CREATE INDEX messages_received ON messages (received_at);
  CREATE INDEX messages_recalled ON messages (id) WHERE recalled_at IS NOT NULL;
  CREATE INDEX messages_waiting ON messages (send_key) WHERE decision IS NULL;
  CREATE TABLE recalls (key TEXT PRIMARY KEY, recalled_at INTEGER NOT NULL, recalled_by TEXT) WITHOUT ROWID;
  CREATE TABLE counts (kind TEXT NOT NULL, name TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (kind, name)) WITHOUT ROWID;`,
  // Sinks (src/store/sqlite-outbox-ops.ts): each sink's cursor and lease; dead letters.
  `CREATE TABLE sinks (
    name TEXT PRIMARY KEY,
    cursor_id INTEGER NOT NULL,
    epoch INTEGER NOT NULL DEFAULT 0,
    holder TEXT,
    lease_until INTEGER,
    updated_at INTEGER
  );
  CREATE TABLE sink_dead_letters (
    sink TEXT NOT NULL,
    event_id INTEGER NOT NULL,
    idem_key TEXT NOT NULL,
    command TEXT NOT NULL,
    reason TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    at INTEGER NOT NULL,
    redrive INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (sink, event_id)
  );`,
  // Time filters became id ranges (received_at is stored non-decreasing with id): the three
  // received_at indexes cost every insert (two of an event's five B-tree inserts) and serve nothing now.
  // Rows stored before this version were in that order too, unless the clock stepped back while they arrived.
  `DROP INDEX events_received;
  DROP INDEX events_command_received;
  DROP INDEX messages_received;`,
  // No schema change. From this version a before-send whose policy matched no rule may store its
  // decision as its verdict alone ('allow' and a NULL decision: src/store/records.ts). The version
  // rises so that an older timhook refuses the file instead of reading such a row as "no decision"
  // (and copying that NULL into the message it stores next, for good).
  `SELECT 1;`,
]
