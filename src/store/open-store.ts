import { createStore, type StoreOptions } from './create-store.js'
import { openPostgresBackend, type PostgresOptions } from './postgres-backend.js'
import { openSqliteBackend, type SqliteOptions } from './sqlite-backend.js'
import type { Store } from './store.js'

export type OpenStoreOptions = StoreOptions & PostgresOptions & SqliteOptions

/** True for the `--db` values that select PostgreSQL. */
export const isPostgresUrl = (db: string) => /^postgres(ql)?:\/\//i.test(db)

/**
 * Opens the store `--db` names: a `postgres://` URL, or else a SQLite file path.
 * @example const store = await openStore('./timhook.db')
 * @example const store = await openStore('postgres://timhook@127.0.0.1/timhook', { schema: 'timhook' })
 */
export async function openStore(db: string, options: OpenStoreOptions = {}): Promise<Store & { readonly dropped: number }> {
  const backend = isPostgresUrl(db) ? await openPostgresBackend(db, options) : openSqliteBackend(db, options)
  return createStore(backend, options)
}
