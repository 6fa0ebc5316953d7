/** Storage for `timhook serve`: one interface, SQLite and PostgreSQL behind it. */
export type { Store, Page, MessageQuery, EventQuery, MessageItem, EventItem, Stats, CommitReport } from './store.js'
export type { CallbackRecord, DecisionRecord } from './records.js'
export { planWrites } from './records.js'
export { createStore, type StoreBackend, type StoreOptions } from './create-store.js'
export { openSqliteBackend } from './sqlite-backend.js'
export { openPostgresBackend, type PostgresOptions } from './postgres-backend.js'
export { openStore, isPostgresUrl, type OpenStoreOptions } from './open-store.js'
export { StoreQueryError } from './store-query-error.js'
