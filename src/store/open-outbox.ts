import type { Outbox } from '../sinks/outbox.js'
import { isPostgresUrl } from './open-store.js'
import { openPostgresOutbox, type PostgresOutboxOptions } from './postgres-outbox.js'
import { openSqliteOutbox, type SqliteOutboxOptions } from './sqlite-outbox.js'

/**
 * The sinks' outbox of the store `--db` names (open the store first: its migrations create the tables).
 * @example const outbox = await openOutbox('./timhook.db')
 */
export async function openOutbox(db: string, options: PostgresOutboxOptions & SqliteOutboxOptions = {}): Promise<Outbox> {
  return isPostgresUrl(db) ? openPostgresOutbox(db, options) : openSqliteOutbox(db, options)
}
