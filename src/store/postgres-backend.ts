/**
 * PostgreSQL through node-postgres: one transaction per batch, one statement and one round trip
 * (src/store/postgres-batch.ts), migrations applied at open.
 *
 * Several timhook instances may share one database, and one instance runs several commits at once
 * (each on its own pooled connection): the batch statements are written so that every
 * interleaving ends in the same state (postgres-batch.ts), and a serialization failure or
 * deadlock reported by PostgreSQL — not expected, but not ruled out by PostgreSQL either — is
 * retried here, a few times, before the commit is reported failed.
 *
 * Admin reads use a pool of their own with a statement timeout: they never wait for a commit's
 * connection, and a slow one is cancelled instead of holding a connection.
 */
import pg from 'pg'
import type { StoreBackend } from './create-store.js'
import { APPLY_BATCH, batchParams, COUNT_KINDS } from './postgres-batch.js'
import type { WriteRow } from './records.js'
import * as sql from './sql.js'
import { POSTGRES_MIGRATIONS } from './postgres-migrations.js'
import { StoreTimeoutError } from './store-query-error.js'
import type { MessageQuery, Stats } from './store.js'
import { decodeCursor } from './cursor.js'

export interface PostgresOptions {
  /** Schema for timhook's tables, created when missing. Default `public`. */
  schema?: string
  /** Most connections for commits. Default 10. */
  poolSize?: number
  /** Connection attempt limit, ms. Default 2000 (Tencent gives up on a callback after 2 s). */
  connectTimeoutMs?: number
  /** Statement limit for commits, ms (PostgreSQL cancels the statement; the client gives up 1 s later). Default 10 000. */
  queryTimeoutMs?: number
  /** Connections of the admin API's own pool. Default 2. */
  adminPoolSize?: number
  /** Longest admin read, ms: PostgreSQL cancels it and the admin API answers 503. Default 5000. */
  adminTimeoutMs?: number
  /** Commits in flight at once, each on its own connection. Default 4 (at most `poolSize`). */
  commitsInFlight?: number
  /** Errors of idle connections (the server went away); the pool replaces them. */
  onIdleError?: (err: Error) => void
  /** A commit that PostgreSQL aborted for a serialization failure or a deadlock, about to be retried. */
  onConflict?: (err: Error, attempt: number) => void
  /** For tests: runs inside every commit's transaction, after its statements, before COMMIT. */
  beforeCommit?: (rows: WriteRow[]) => Promise<void> | void
}

/** How many times a commit aborted by a serialization failure or deadlock is tried in all. */
export const CONFLICT_ATTEMPTS = 5

const CONFLICT_CODES = new Set(['40001', '40P01'])
/** SQLSTATE classes of a refusal of the data itself: 22 data exception, 23 integrity constraint, 54 program limit (an index row too large). */
const DATA_ERROR = /^(22|23|54)/

/** True for an error PostgreSQL raised because of the rows (the same batch would fail again), not because it is unreachable. */
export function isPostgresDataError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' && DATA_ERROR.test(code)
}

const isConflict = (err: unknown) => CONFLICT_CODES.has(String((err as { code?: unknown } | null)?.code))

/**
 * Connects, creates the schema when missing and applies pending migrations.
 * @example const store = createStore(await openPostgresBackend('postgres://timhook@127.0.0.1/timhook'))
 */
export async function openPostgresBackend(url: string, options: PostgresOptions = {}): Promise<StoreBackend> {
  const schema = options.schema ?? 'public'
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema))
    throw new Error(`invalid PostgreSQL schema name ${JSON.stringify(schema)}: use lower-case letters, digits and _`)
  const poolSize = options.poolSize ?? 10
  const statementMs = options.queryTimeoutMs ?? 10_000
  const adminMs = options.adminTimeoutMs ?? 5000
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 2000,
    // The server cancels a statement past statement_timeout (a lock held elsewhere, a hung disk);
    // the client's own limit, a little longer, covers a server that does not answer at all.
    query_timeout: statementMs + 1000,
    options: `-c search_path=${schema} -c statement_timeout=${statementMs}`,
  })
  const adminPool = new pg.Pool({
    connectionString: url,
    max: options.adminPoolSize ?? 2,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 2000,
    query_timeout: adminMs + 1000,
    options: `-c search_path=${schema} -c statement_timeout=${adminMs} -c default_transaction_read_only=on`,
  })
  // Without a listener, an idle connection dropped by the server would crash the process.
  pool.on('error', (err) => options.onIdleError?.(err))
  adminPool.on('error', (err) => options.onIdleError?.(err))
  try {
    await migrate(pool, schema)
  } catch (err) {
    await Promise.all([pool.end().catch(() => {}), adminPool.end().catch(() => {})])
    throw err
  }

  const read = async (text: string, params: unknown[] = []) => {
    try {
      return (await adminPool.query(text, params)).rows as Array<Record<string, unknown>>
    } catch (err) {
      const e = err as { code?: string; message?: string }
      if (e.code === '57014' || /timeout/i.test(String(e.message))) throw new StoreTimeoutError(adminMs, String(e.message))
      throw err
    }
  }

  const beforeCommit = options.beforeCommit
  // The batch's statement is its own transaction; with a test's hook, it runs inside BEGIN … COMMIT
  // so that the hook runs after it and before the commit.
  const applyOnce = (rows: WriteRow[]) => {
    const apply = (client: pg.PoolClient) => client.query({ ...APPLY_BATCH, values: batchParams(rows), rowMode: 'array' })
    return beforeCommit === undefined
      ? onConnection(pool, apply, false)
      : onConnection(
          pool,
          async (client) => {
            await apply(client)
            await beforeCommit(rows)
          },
          true,
        )
  }

  return {
    kind: 'postgres',
    concurrentCommits: Math.max(1, Math.min(options.commitsInFlight ?? 4, poolSize)),
    isDataError: isPostgresDataError,
    async commit(rows) {
      for (let attempt = 1; ; attempt++) {
        try {
          await applyOnce(rows)
          return
        } catch (err) {
          if (!isConflict(err) || attempt >= CONFLICT_ATTEMPTS) throw err
          options.onConflict?.(err as Error, attempt)
          // A short random pause, growing with the attempts, so the two sides do not meet again.
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * 2 ** attempt))
        }
      }
    },
    async probe() {
      // What a commit needs: a connection, the tables (not locked against writers), a durable write.
      await inTransaction(pool, async (client) => {
        await client.query('LOCK TABLE events, messages, counts IN ROW EXCLUSIVE MODE')
        await client.query(
          `INSERT INTO counts (kind, name, slot, n) VALUES ('probe', '', 0, 0) ON CONFLICT (kind, name, slot) DO UPDATE SET n = 0`,
        )
      })
    },
    async listMessages(q) {
      const s = messageSelect(q)
      return sql.messagePage(await read(s.text, s.params), q.limit)
    },
    async listEvents(q) {
      const s = sql.eventSelect(q)
      return sql.eventPage(await read(numbered(s.text), s.params), q.limit)
    },
    async readBody(kind, id, offset, length) {
      const s = sql.bodyChunkSelect(kind, id, offset, length)
      return sql.bodyChunk(await read(numbered(s.text), s.params))
    },
    async stats() {
      return statsOf(await read(STATS))
    },
    async ping() {
      await pool.query('SELECT 1')
    },
    async close() {
      await Promise.all([pool.end(), adminPool.end()])
    },
  }
}

/** `?` placeholders → `$1, $2, …`. The SQL in sql.ts has no `?` inside literals. */
function numbered(text: string): string {
  let i = 0
  return text.replace(/\?/g, () => `$${++i}`)
}

const STATS = `SELECT kind, name, SUM(n)::text AS n FROM counts GROUP BY kind, name`

/** Sets a key on a plain object as an own property, whatever its name (`__proto__` included). */
function put(target: Record<string, number>, key: string, n: number): void {
  Object.defineProperty(target, key, { value: n, enumerable: true, writable: true, configurable: true })
}

/** `/api/stats` from the `counts` rows (each row the sum over its slots). */
export function statsOf(rows: Array<Record<string, unknown>>): Stats {
  const stats: Stats = {
    events: { total: 0, byCommand: {} },
    decisions: { byVerdict: {}, byRule: {} },
    rejections: { byCause: {} },
    messages: { total: 0, recalled: 0, recallsAwaitingMessage: 0 },
  }
  for (const row of rows) {
    const name = String(row.name)
    const n = Number(row.n)
    switch (row.kind) {
      case COUNT_KINDS.command:
        stats.events.total += n
        if (n !== 0) put(stats.events.byCommand, name, n)
        break
      case COUNT_KINDS.verdict:
        if (n !== 0) put(stats.decisions.byVerdict, name, n)
        break
      case COUNT_KINDS.rule:
        if (n !== 0) put(stats.decisions.byRule, name, n)
        break
      case COUNT_KINDS.rejection:
        if (n !== 0) put(stats.rejections.byCause, name, n)
        break
      case COUNT_KINDS.messages:
        if (name === 'total') stats.messages.total = n
        else if (name === 'recalled') stats.messages.recalled = n
        else if (name === 'awaiting') stats.messages.recallsAwaitingMessage = n
        break
    }
  }
  return stats
}

/**
 * `SELECT … FROM messages` for a query: stored messages only (not recalls awaiting theirs), each
 * with its decision joined from its before-send's event row (a refused send's is not taken);
 * keyset pagination on id, newest first, one extra row to know if there is more.
 */
export function messageSelect(q: MessageQuery): sql.SqlQuery {
  const where: string[] = ['m.body IS NOT NULL']
  // $1: at most this much of each body is read (sql.messagePage notes a longer one).
  const params: unknown[] = [sql.INLINE_BODY_BYTES]
  const add = (clause: string, value: unknown) => {
    params.push(value)
    where.push(clause.replace('?', `$${params.length}`))
  }
  if (q.groupId !== undefined) add('m.group_id = ?', q.groupId)
  if (q.topicId !== undefined) add('m.topic_id = ?', q.topicId)
  if (q.from !== undefined) add('m.from_account = ?', q.from)
  if (q.to !== undefined) add('m.to_account = ?', q.to)
  if (q.recalled === true) where.push('m.recalled_at IS NOT NULL')
  if (q.recalled === false) where.push('m.recalled_at IS NULL')
  if (q.since !== undefined) add('m.received_at >= ?', q.since)
  if (q.until !== undefined) add('m.received_at < ?', q.until)
  if (q.cursor !== undefined) add('m.id < ?', decodeCursor(q.cursor))
  params.push(q.limit + 1)
  return {
    text: `SELECT m.id, substr(m.body, 1, $1) AS body, length(m.body) AS body_size, m.group_id, m.topic_id, m.msg_seq, m.msg_key, m.from_account, m.to_account,
        m.received_at, m.recalled_at, m.recalled_by, COALESCE(${sql.storedDecision('e')}, ${sql.storedDecision('eb')}) AS decision
      FROM messages m
      LEFT JOIN events e ON e.idem_key = m.decision_key AND e.verdict IS DISTINCT FROM 'deny'
      LEFT JOIN events eb ON eb.idem_key = m.decision_key_bare AND eb.verdict IS DISTINCT FROM 'deny'
      WHERE ${where.join(' AND ')} ORDER BY m.id DESC LIMIT $${params.length}`,
    params,
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
      throw new Error(
        `the database schema ${schema} is version ${current}, newer than this timhook knows (${POSTGRES_MIGRATIONS.length}); upgrade timhook`,
      )
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
async function inTransaction(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<unknown>): Promise<void> {
  await onConnection(pool, fn, true)
}

/** `fn` on a pooled client (see inTransaction), inside BEGIN … COMMIT when `transaction`; a single statement outside is a transaction of its own. */
async function onConnection(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<unknown>, transaction: boolean): Promise<void> {
  const client = await pool.connect()
  let lost: Error | undefined
  const onError = (err: Error) => {
    lost = err
  }
  client.on('error', onError)
  try {
    if (transaction) await client.query('BEGIN')
    await fn(client)
    if (transaction) await client.query('COMMIT')
    client.off('error', onError)
    client.release(lost)
  } catch (err) {
    // A refusal (a data error, a conflict) leaves a healthy connection: roll back and reuse it.
    // Anything else (a timeout, a lost connection) may leave it mid-statement: discard it.
    const code = (err as { code?: unknown } | null)?.code
    let reusable = lost === undefined && typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && code !== '57014'
    if (reusable && transaction) await client.query('ROLLBACK').catch(() => (reusable = false))
    client.off('error', onError)
    client.release(reusable ? undefined : err instanceof Error ? err : (lost ?? true))
    throw err
  }
}
