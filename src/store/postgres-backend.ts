/**
 * PostgreSQL through node-postgres: one transaction per batch, a few multi-row statements in it
 * (src/store/postgres-batch.ts), migrations applied at open.
 * Several timhook instances may share one database: every write is an idempotent upsert.
 */
import pg from 'pg'
import type { StoreBackend } from './create-store.js'
import { applyBatch } from './postgres-batch.js'
import * as sql from './sql.js'
import { POSTGRES_MIGRATIONS } from './postgres-migrations.js'

export interface PostgresOptions {
  /** Schema for timhook's tables, created when missing. Default `public`. */
  schema?: string
  /** Most connections. Default 10. */
  poolSize?: number
  /** Connection attempt limit, ms. Default 2000 (Tencent gives up on a callback after 2 s). */
  connectTimeoutMs?: number
  /** Query limit, ms. Default 10 000. */
  queryTimeoutMs?: number
  /** Errors of idle connections (the server went away); the pool replaces them. */
  onIdleError?: (err: Error) => void
}

/** `?` placeholders → `$1, $2, …`. The SQL in sql.ts has no `?` inside literals. */
function numbered(text: string): string {
  let i = 0
  return text.replace(/\?/g, () => `$${++i}`)
}

const prepared = new Map<string, string>()
const pgText = (text: string) => {
  let t = prepared.get(text)
  if (t === undefined) prepared.set(text, (t = numbered(text)))
  return t
}

/**
 * Connects, creates the schema when missing and applies pending migrations.
 * @example const store = createStore(await openPostgresBackend('postgres://timhook@127.0.0.1/timhook'))
 */
export async function openPostgresBackend(url: string, options: PostgresOptions = {}): Promise<StoreBackend> {
  const schema = options.schema ?? 'public'
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`invalid PostgreSQL schema name ${JSON.stringify(schema)}: use lower-case letters, digits and _`)
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 2000,
    query_timeout: options.queryTimeoutMs ?? 10_000,
    options: `-c search_path=${schema}`,
  })
  // Without a listener, an idle connection dropped by the server would crash the process.
  pool.on('error', (err) => options.onIdleError?.(err))
  try {
    await migrate(pool, schema)
  } catch (err) {
    await pool.end().catch(() => {})
    throw err
  }

  const query = async (text: string, params: unknown[] = []) => (await pool.query(pgText(text), params)).rows as Array<Record<string, unknown>>

  return {
    kind: 'postgres',
    async commit(rows) {
      await inTransaction(pool, (client) => applyBatch(client, rows))
    },
    async listMessages(q) {
      const s = sql.messageSelect(q)
      return sql.messagePage(await query(s.text, s.params), q.limit)
    },
    async listEvents(q) {
      const s = sql.eventSelect(q)
      return sql.eventPage(await query(s.text, s.params), q.limit)
    },
    async stats() {
      const [byCommand, byVerdict, byRule, rejections, messages, orphans] = await Promise.all([
        query(sql.STATS_BY_COMMAND),
        query(sql.STATS_BY_VERDICT),
        query(sql.STATS_BY_RULE),
        query(sql.STATS_REJECTIONS),
        query(sql.STATS_MESSAGES),
        query(sql.STATS_ORPHAN_RECALLS),
      ])
      return {
        events: { total: byCommand.reduce((n, r) => n + Number(r.n), 0), byCommand: sql.tally(byCommand) },
        decisions: { byVerdict: sql.tally(byVerdict), byRule: sql.tally(byRule) },
        rejections: { byCause: sql.tally(rejections) },
        messages: { total: Number(messages[0]!.total), recalled: Number(messages[0]!.recalled), recallsAwaitingMessage: Number(orphans[0]!.n) },
      }
    },
    async ping() {
      await pool.query('SELECT 1')
    },
    async close() {
      await pool.end()
    },
  }
}

async function migrate(pool: pg.Pool, schema: string): Promise<void> {
  await inTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`timhook-migrate:${schema}`])
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`)
    await client.query(`CREATE TABLE IF NOT EXISTS ${schema}.timhook_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)`)
    const { rows } = await client.query<{ v: number | null }>(`SELECT MAX(version) AS v FROM ${schema}.timhook_migrations`)
    const current = rows[0]?.v ?? 0
    if (current > POSTGRES_MIGRATIONS.length) {
      throw new Error(`the database schema ${schema} is version ${current}, newer than this timhook knows (${POSTGRES_MIGRATIONS.length}); upgrade timhook`)
    }
    for (let v = current; v < POSTGRES_MIGRATIONS.length; v++) {
      await client.query(POSTGRES_MIGRATIONS[v]!)
      await client.query(`INSERT INTO ${schema}.timhook_migrations (version, applied_at) VALUES ($1, $2)`, [v + 1, Date.now()])
    }
  })
}

/**
 * Runs `fn` in one transaction on a pooled client. While a client is checked out pg-pool removes its
 * own 'error' listener, so a connection lost mid-transaction (PostgreSQL stopped, failover, a TCP
 * reset) would emit an unhandled 'error' and crash the process; the listener here turns it into a
 * rejected transaction instead, and the connection is discarded.
 */
async function inTransaction(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<void>): Promise<void> {
  const client = await pool.connect()
  let lost: Error | undefined
  const onError = (err: Error) => {
    lost = err
  }
  client.on('error', onError)
  try {
    await client.query('BEGIN')
    await fn(client)
    await client.query('COMMIT')
    client.off('error', onError)
    client.release(lost)
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {})
    client.off('error', onError)
    // A connection that failed mid-transaction is not trusted again.
    client.release(err instanceof Error ? err : (lost ?? true))
    throw err
  }
}
