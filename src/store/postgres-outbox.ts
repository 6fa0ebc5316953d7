/**
 * The sinks' outbox over PostgreSQL: events read in delivery order, each sink's cursor, lease and
 * dead letters in tables of their own (`sinks`, `sink_dead_letters`), on a small pool of its own
 * (a slow sink query never takes a connection a commit needs).
 *
 * Delivery order with several writers. An identity sequence is not commit order: a transaction
 * that drew id 7 may commit after one that drew id 8, and a cursor that had moved past 8 would
 * never see 7. So every event row records the transaction that wrote it (`xid`, default
 * `pg_current_xact_id()`), and the outbox delivers only rows whose transaction is older than the
 * oldest one still running (`xid < pg_snapshot_xmin(pg_current_snapshot())`): every such
 * transaction has ended, so no row can appear among them any more. Delivery follows (xid, id),
 * and the cursor is that pair. Rows of one commit keep id order; across concurrent commits the
 * order is the order of their transaction ids. Nothing waits on the commit path (the alternative,
 * numbering events at commit under a lock, serializes every commit of every instance).
 */
import pg from 'pg'
import { storedDecision } from './sql.js'
import { ReplayError, type DeadLetter, type Outbox, type OutboxEvent, type SinkCursor, type SinkStatusRow } from '../sinks/outbox.js'

export interface PostgresOutboxOptions {
  /** The store's schema. Default `public`. */
  schema?: string
  /** Connections. Default 2. */
  poolSize?: number
  /** Statement limit, ms. Default 10 000. */
  queryTimeoutMs?: number
  onIdleError?: (err: Error) => void
}

const SAFE = 'pg_snapshot_xmin(pg_current_snapshot())'
const EVENT_COLUMNS = `xid::text AS xid, id, idem_key, command, sdk_app_id, received_at, raw, ${storedDecision()} AS decision`

/** `xid:id` ↔ its two parts. */
function parsePosition(position: string): [string, string] {
  const m = /^(\d+):(\d+)$/.exec(position)
  if (m === null) throw new Error(`not a PostgreSQL outbox position: ${JSON.stringify(position)}`)
  return [m[1]!, m[2]!]
}

type Row = Record<string, unknown>

const eventOf = (r: Row): OutboxEvent => ({
  position: `${String(r.xid)}:${String(r.id)}`,
  id: Number(r.id),
  key: r.idem_key as string,
  command: r.command as string,
  sdkAppId: r.sdk_app_id as string,
  receivedAt: Number(r.received_at),
  raw: r.raw as Buffer,
  decision: (r.decision as string | null) ?? null,
})

/**
 * Opens the outbox of a PostgreSQL store (its tables are created by the store's migrations: open the store first).
 * @example const outbox = await openPostgresOutbox('postgres://timhook@127.0.0.1/timhook')
 */
export async function openPostgresOutbox(url: string, options: PostgresOutboxOptions = {}): Promise<Outbox> {
  const schema = options.schema ?? 'public'
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`invalid PostgreSQL schema name ${JSON.stringify(schema)}`)
  const timeout = options.queryTimeoutMs ?? 10_000
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 2,
    connectionTimeoutMillis: 5000,
    query_timeout: timeout + 1000,
    options: `-c search_path=${schema} -c statement_timeout=${timeout}`,
  })
  pool.on('error', (err) => options.onIdleError?.(err))
  const q = async (text: string, params: unknown[] = []) => (await pool.query(text, params)).rows as Row[]
  const known = new Set<string>()

  const inTransaction = async <T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> => {
    const c = await pool.connect()
    const onError = () => {}
    c.on('error', onError)
    try {
      await c.query('BEGIN')
      const r = await fn(c)
      await c.query('COMMIT')
      c.off('error', onError)
      c.release()
      return r
    } catch (err) {
      await c.query('ROLLBACK').catch(() => {})
      c.off('error', onError)
      c.release(err instanceof Error ? err : true)
      throw err
    }
  }

  const outbox: Outbox = {
    async read(position, limit) {
      const [xid, id] = parsePosition(position)
      const rows = await q(
        `SELECT ${EVENT_COLUMNS} FROM events WHERE (xid, id) > ($1::xid8, $2::bigint) AND xid < ${SAFE} ORDER BY xid, id LIMIT $3`,
        [xid, id, limit],
      )
      return rows.map(eventOf)
    },
    async lease(sink, holder, ttlMs, start) {
      if (!known.has(sink)) {
        // A new sink starts before every event (beginning) or after the last one no writer can precede (end).
        await q(
          `INSERT INTO sinks (name, cursor_xid, cursor_id)
           SELECT $1, COALESCE(e.xid, '0'::xid8), COALESCE(e.id, 0) FROM (SELECT 1) one
           LEFT JOIN LATERAL (SELECT xid, id FROM events WHERE $2 = 'end' AND xid < ${SAFE} ORDER BY xid DESC, id DESC LIMIT 1) e ON true
           ON CONFLICT (name) DO NOTHING`,
          [sink, start],
        )
        known.add(sink)
      }
      // The database's clock decides expiry, so instances with different clocks agree.
      const rows = await q(
        `UPDATE sinks SET holder = $2, lease_until = now() + make_interval(secs => $3::double precision / 1000)
         WHERE name = $1 AND (holder = $2 OR holder IS NULL OR lease_until IS NULL OR lease_until < now())
         RETURNING cursor_xid::text AS xid, cursor_id AS id, epoch`,
        [sink, holder, ttlMs],
      )
      const r = rows[0]
      return r === undefined ? null : ({ position: `${String(r.xid)}:${String(r.id)}`, epoch: Number(r.epoch) } satisfies SinkCursor)
    },
    async release(sink, holder) {
      await q(`UPDATE sinks SET holder = NULL, lease_until = NULL WHERE name = $1 AND holder = $2`, [sink, holder])
    },
    async advance(sink, holder, epoch, position, deadLetter) {
      const [xid, id] = parsePosition(position)
      const update = `UPDATE sinks SET cursor_xid = $4::xid8, cursor_id = $5::bigint, updated_at = now() WHERE name = $1 AND holder = $2 AND epoch = $3`
      if (deadLetter === undefined) return ((await pool.query(update, [sink, holder, epoch, xid, id])).rowCount ?? 0) > 0
      return inTransaction(async (c) => {
        const moved = ((await c.query(update, [sink, holder, epoch, xid, id])).rowCount ?? 0) > 0
        if (!moved) return false
        const e = deadLetter.event
        await c.query(
          `INSERT INTO sink_dead_letters (sink, event_id, idem_key, command, reason, attempts, at) VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (sink, event_id) DO UPDATE SET reason = excluded.reason, attempts = sink_dead_letters.attempts + excluded.attempts, at = excluded.at, redrive = false`,
          [sink, e.id, e.key, e.command, deadLetter.reason.slice(0, 1000), deadLetter.attempts, Date.now()],
        )
        return true
      })
    },
    async lag(position, cap) {
      const [xid, id] = parsePosition(position)
      const rows = await q(
        `SELECT count(*) AS n, min(received_at) AS oldest FROM (SELECT received_at FROM events WHERE (xid, id) > ($1::xid8, $2::bigint) ORDER BY xid, id LIMIT $3) t`,
        [xid, id, cap],
      )
      return { events: Number(rows[0]!.n), oldestAt: rows[0]!.oldest == null ? null : Number(rows[0]!.oldest) }
    },
    async replay(sink, from) {
      const rows =
        'id' in from
          ? await q(`SELECT xid::text AS xid, id FROM events WHERE id >= $1 ORDER BY id LIMIT 1`, [from.id])
          : await q(`SELECT xid::text AS xid, id FROM events WHERE received_at >= $1 ORDER BY xid, id LIMIT 1`, [from.time])
      const first = rows[0]
      if (first === undefined)
        throw new ReplayError(
          `no event ${'id' in from ? `with id ${from.id} or later` : `received at or after ${new Date(from.time).toISOString()}`}`,
        )
      // Just before that event in delivery order: same transaction, the id before.
      const updated = await q(
        `INSERT INTO sinks (name, cursor_xid, cursor_id, epoch, updated_at) VALUES ($1, $2::xid8, $3::bigint - 1, 1, now())
         ON CONFLICT (name) DO UPDATE SET cursor_xid = excluded.cursor_xid, cursor_id = excluded.cursor_id, epoch = sinks.epoch + 1, updated_at = now()
         RETURNING cursor_xid::text AS xid, cursor_id AS id, epoch`,
        [sink, first.xid, first.id],
      )
      known.add(sink)
      const r = updated[0]!
      return { position: `${String(r.xid)}:${String(r.id)}`, epoch: Number(r.epoch) }
    },
    async status() {
      const rows = await q(
        `SELECT s.name, s.cursor_xid::text AS xid, s.cursor_id AS id, s.epoch, s.holder,
           (extract(epoch FROM s.lease_until) * 1000)::bigint AS lease_until, (extract(epoch FROM s.updated_at) * 1000)::bigint AS updated_at,
           (SELECT count(*) FROM sink_dead_letters d WHERE d.sink = s.name) AS dead
         FROM sinks s ORDER BY s.name`,
      )
      return rows.map((r): SinkStatusRow => ({
        name: r.name as string,
        position: `${String(r.xid)}:${String(r.id)}`,
        lastId: Number(r.id) === 0 ? null : Number(r.id),
        epoch: Number(r.epoch),
        holder: (r.holder as string | null) ?? null,
        leaseUntil: r.lease_until == null ? null : Number(r.lease_until),
        updatedAt: r.updated_at == null ? null : Number(r.updated_at),
        deadLetters: Number(r.dead),
      }))
    },
    async deadLetters(sink, limit) {
      const rows = await q(
        `SELECT event_id, idem_key, command, reason, attempts, at, redrive FROM sink_dead_letters WHERE sink = $1 ORDER BY event_id LIMIT $2`,
        [sink, limit],
      )
      return rows.map(deadLetterOf)
    },
    async redrive(sink, ids) {
      const r = await pool.query(
        `UPDATE sink_dead_letters SET redrive = true WHERE sink = $1 AND ($2::bigint[] IS NULL OR event_id = ANY($2::bigint[]))`,
        [sink, ids ?? null],
      )
      return r.rowCount ?? 0
    },
    async redrives(sink, limit) {
      const rows = await q(
        `SELECT e.xid::text AS xid, e.id, e.idem_key, e.command, e.sdk_app_id, e.received_at, e.raw, ${storedDecision('e')} AS decision
         FROM sink_dead_letters d JOIN events e ON e.id = d.event_id WHERE d.sink = $1 AND d.redrive ORDER BY d.event_id LIMIT $2`,
        [sink, limit],
      )
      return rows.map(eventOf)
    },
    async settleRedrive(sink, id, failure) {
      if (failure === undefined) await q(`DELETE FROM sink_dead_letters WHERE sink = $1 AND event_id = $2`, [sink, id])
      else
        await q(
          `UPDATE sink_dead_letters SET redrive = false, reason = $3, attempts = attempts + 1, at = $4 WHERE sink = $1 AND event_id = $2`,
          [sink, id, failure.reason.slice(0, 1000), Date.now()],
        )
    },
    async close() {
      await pool.end()
    },
  }
  return outbox
}

export const deadLetterOf = (r: Row): DeadLetter => ({
  id: Number(r.event_id),
  key: r.idem_key as string,
  command: r.command as string,
  reason: r.reason as string,
  attempts: Number(r.attempts),
  at: Number(r.at),
  redrive: r.redrive === true || Number(r.redrive) === 1,
})
