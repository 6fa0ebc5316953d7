/**
 * SQLite schema, versioned with `PRAGMA user_version`: migration N runs once, when the file is
 * older than N. Append; never edit a migration that has shipped.
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
  CREATE INDEX messages_group ON messages (group_id, topic_id, id);
  CREATE INDEX messages_from ON messages (from_account, id);
  CREATE INDEX messages_to ON messages (to_account, id);
  CREATE INDEX messages_send_key ON messages (send_key);
  CREATE INDEX messages_received ON messages (received_at);
  CREATE TABLE recalls (key TEXT PRIMARY KEY, recalled_at INTEGER NOT NULL, recalled_by TEXT);
  CREATE TABLE decisions (send_key TEXT PRIMARY KEY, decision TEXT NOT NULL);
  CREATE TABLE rejections (cause TEXT PRIMARY KEY, count INTEGER NOT NULL);`,
]
