/**
 * The listing queries both backends run (`?` placeholders; the PostgreSQL backend numbers them)
 * and the mapping of their rows to pages. Statements only SQLite runs — its write path and its
 * maintained counts — are in src/store/sqlite-sql.ts; PostgreSQL's own are in its files. The
 * STATS_* scans below are what the PostgreSQL backend counts with.
 */
import { MAX_BODY_DEPTH, nestsDeeperThan } from '../protocol/parse-json.js'
import { decodeCursor, encodeCursor } from './cursor.js'
import { NO_MATCH_DECISION_JSON } from './records.js'
import type { BodyNote, EventItem, EventQuery, MessageItem, MessageQuery, Page } from './store.js'

/**
 * The longest body a page holds inline (bytes of an event's raw body, characters of a message's
 * JSON). A page reads at most this much of each body from the database, so a page of `limit` rows
 * holds at most `limit × INLINE_BODY_BYTES` of bodies whatever was stored; a longer body is left
 * out of the page (`bodyNote` TOO_LARGE) and read whole with `Store.readBody`.
 */
export const INLINE_BODY_BYTES = 64 * 1024

export const STATS_BY_COMMAND = `SELECT command AS k, COUNT(*) AS n FROM events GROUP BY command`
export const STATS_BY_VERDICT = `SELECT verdict AS k, COUNT(*) AS n FROM events WHERE verdict IS NOT NULL GROUP BY verdict`
export const STATS_BY_RULE = `SELECT rule AS k, COUNT(*) AS n FROM events WHERE rule IS NOT NULL GROUP BY rule`
export const STATS_REJECTIONS = `SELECT cause AS k, count AS n FROM rejections`
export const STATS_MESSAGES = `SELECT COUNT(*) AS total, COUNT(recalled_at) AS recalled FROM messages`
export const STATS_ORPHAN_RECALLS = `SELECT COUNT(*) AS n FROM recalls r WHERE NOT EXISTS (SELECT 1 FROM messages m WHERE m.key = r.key)`

/**
 * An event row's decision as JSON text, for a SELECT on either backend: the stored JSON, or — for a
 * row that stores the no-match decision as its verdict alone (`allow` and no JSON: records.ts
 * `NO_MATCH_DECISION_JSON`) — that decision's JSON. `t`: the events table's alias, if any.
 */
export function storedDecision(t?: string): string {
  const c = t === undefined ? '' : `${t}.`
  return `COALESCE(${c}decision, CASE WHEN ${c}verdict = 'allow' THEN ${NO_MATCH_LITERAL} END)`
}
const NO_MATCH_LITERAL = `'${NO_MATCH_DECISION_JSON.replaceAll("'", "''")}'`

/**
 * How a backend writes a listing's time filter (`since` ≤ received_at < `until`, either side may be
 * open): the condition and its parameters, for the `events` or `messages` table.
 */
export type TimeFilter = (
  table: 'events' | 'messages',
  since: number | undefined,
  until: number | undefined,
) => { clause: string; params: unknown[] }

/**
 * The time filter on the `received_at` column, as a range bounded on both sides (an open side
 * written out): so bounded, a planner takes a `received_at` index (PostgreSQL's). SQLite has no
 * such index and passes its own (src/store/sqlite-sql.ts).
 */
export const receivedBetween: TimeFilter = (_table, since, until) => ({
  clause: 'received_at >= ? AND received_at < ?',
  params: [since ?? Number.MIN_SAFE_INTEGER, until ?? Number.MAX_SAFE_INTEGER],
})

export interface SqlQuery {
  text: string
  params: unknown[]
}

/**
 * `SELECT … FROM messages` for a query: filters, keyset pagination on id, newest first, one extra
 * row to know if there is more. `guard`, when given, is one more condition evaluated on every row
 * visited (SQLite's readers pass a function that stops the statement past its time budget); `time`
 * writes the time filter.
 */
export function messageSelect(q: MessageQuery, guard?: string, time: TimeFilter = receivedBetween): SqlQuery {
  const where: string[] = []
  const params: unknown[] = []
  const add = (clause: string, ...values: unknown[]) => {
    where.push(clause)
    params.push(...values)
  }
  if (q.groupId !== undefined) add('group_id = ?', q.groupId)
  if (q.topicId !== undefined) add('topic_id = ?', q.topicId)
  if (q.from !== undefined) add('from_account = ?', q.from)
  if (q.to !== undefined) add('to_account = ?', q.to)
  if (q.recalled === true) where.push('recalled_at IS NOT NULL')
  if (q.recalled === false) where.push('recalled_at IS NULL')
  if (q.since !== undefined || q.until !== undefined) {
    const t = time('messages', q.since, q.until)
    add(t.clause, ...t.params)
  }
  if (q.cursor !== undefined) add('id < ?', decodeCursor(q.cursor))
  if (guard !== undefined) where.push(guard)
  params.push(q.limit + 1)
  return {
    text: `SELECT id, substr(body, 1, ?) AS body, length(body) AS body_size, group_id, topic_id, msg_seq, msg_key, from_account, to_account, received_at, recalled_at, recalled_by, decision
  FROM messages ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id DESC LIMIT ?`,
    params: [INLINE_BODY_BYTES, ...params],
  }
}

export function eventSelect(q: EventQuery, guard?: string, time: TimeFilter = receivedBetween): SqlQuery {
  const where: string[] = []
  const params: unknown[] = []
  if (q.command !== undefined) {
    where.push('command = ?')
    params.push(q.command)
  }
  if (q.since !== undefined || q.until !== undefined) {
    const t = time('events', q.since, q.until)
    where.push(t.clause)
    params.push(...t.params)
  }
  if (q.cursor !== undefined) {
    where.push('id < ?')
    params.push(decodeCursor(q.cursor))
  }
  if (guard !== undefined) where.push(guard)
  params.push(q.limit + 1)
  return {
    text: `SELECT id, idem_key, command, sdk_app_id, client_ip, opt_platform, received_at, request_id, substr(raw, 1, ?) AS raw, length(raw) AS raw_size, valid, deliveries, ${storedDecision()} AS decision
  FROM events ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id DESC LIMIT ?`,
    params: [INLINE_BODY_BYTES, ...params],
  }
}

/** A piece of a stored body: `length` units from `offset` (0-based; bytes of a raw body, characters of a message's JSON), and the whole size. */
export function bodyChunkSelect(kind: 'event' | 'message', id: number, offset: number, length: number): SqlQuery {
  return {
    text:
      kind === 'event'
        ? 'SELECT length(raw) AS size, substr(raw, ?, ?) AS chunk FROM events WHERE id = ?'
        : 'SELECT length(body) AS size, substr(body, ?, ?) AS chunk FROM messages WHERE id = ?',
    params: [offset + 1, length, id],
  }
}

/** The answer to `bodyChunkSelect`: null when there is no such row. */
export function bodyChunk(rows: Row[]): { size: number; chunk: Uint8Array | string } | null {
  const row = rows[0]
  if (row === undefined) return null
  const chunk = row.chunk
  return { size: Number(row.size), chunk: typeof chunk === 'string' ? chunk : chunk instanceof Uint8Array ? chunk : '' }
}

type Row = Record<string, unknown>

const iso = (ms: unknown) => new Date(Number(ms)).toISOString()

/** A stored JSON column (a decision): null when absent or unreadable, so one odd row cannot fail its page. */
function json(text: unknown): Record<string, unknown> | null {
  if (typeof text !== 'string' || nestsDeeperThan(text, MAX_BODY_DEPTH)) return null
  try {
    const v = JSON.parse(text) as unknown
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null
  } catch {
    return null
  }
}

/**
 * A stored body as a page shows it: parsed when it is JSON within `MAX_BODY_DEPTH` and inline
 * size; otherwise its text (deeper than the limit, or not JSON: rows stored before the limit
 * existed, or damaged) or nothing (too large), with a note saying which. Nothing here recurses
 * over the body, so every item of a page can be serialized.
 */
function viewBody(text: string | null, size: number): { body: unknown; note?: BodyNote } {
  if (text === null || size > INLINE_BODY_BYTES) return { body: null, note: { reason: 'TOO_LARGE', size } }
  if (nestsDeeperThan(text, MAX_BODY_DEPTH)) return { body: text, note: { reason: 'TOO_DEEP', size } }
  try {
    return { body: JSON.parse(text) as unknown }
  } catch {
    return { body: text, note: { reason: 'NOT_JSON', size } }
  }
}

const textOf = (v: unknown): string | null =>
  typeof v === 'string' ? v : v instanceof Uint8Array ? Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('utf8') : null
const orNull = (v: unknown) => (v === undefined ? null : v)

function page<T>(rows: Row[], limit: number, map: (row: Row) => T): Page<T> {
  const more = rows.length > limit
  const items = (more ? rows.slice(0, limit) : rows).map(map)
  return { items, nextCursor: more ? encodeCursor(String(rows[limit - 1]!.id)) : null }
}

export function messagePage(rows: Row[], limit: number): Page<MessageItem> {
  return page(rows, limit, (row) => {
    const { body, note } = viewBody(textOf(row.body), Number(row.body_size ?? 0))
    const state = {
      id: String(row.id),
      recalledAt: row.recalled_at == null ? null : iso(row.recalled_at),
      recalledBy: (row.recalled_by as string | null) ?? null,
      decision: json(row.decision),
      receivedAt: iso(row.received_at),
    }
    if (note === undefined && body !== null && typeof body === 'object' && !Array.isArray(body))
      return { ...(body as Record<string, unknown>), ...state }
    // The body cannot be shown as fields: the message's identity from its columns, the body as it is.
    const identity: Record<string, unknown> = {}
    const put = (field: string, v: unknown) => {
      if (v !== null && v !== undefined) identity[field] = v
    }
    put('GroupId', row.group_id)
    if (row.topic_id !== '') put('TopicId', row.topic_id)
    put('MsgSeq', row.msg_seq == null ? null : Number(row.msg_seq)) // PostgreSQL's BIGINT arrives as text
    put('MsgKey', row.msg_key)
    put('From_Account', row.from_account)
    put('To_Account', row.to_account)
    return { ...identity, body, bodyNote: note ?? { reason: 'NOT_JSON', size: Number(row.body_size ?? 0) }, ...state }
  })
}

export function eventPage(rows: Row[], limit: number): Page<EventItem> {
  return page(rows, limit, (row) => {
    const { body, note } = viewBody(textOf(row.raw), Number(row.raw_size ?? 0))
    const item: EventItem = {
      id: String(row.id),
      command: row.command as string,
      sdkAppId: row.sdk_app_id as string,
      clientIp: (orNull(row.client_ip) as string | null) ?? null,
      optPlatform: (orNull(row.opt_platform) as string | null) ?? null,
      receivedAt: iso(row.received_at),
      requestId: row.request_id as string,
      idempotencyKey: row.idem_key as string,
      deliveries: Number(row.deliveries),
      valid: Number(row.valid) === 1,
      decision: json(row.decision),
      body,
    }
    if (note !== undefined) item.bodyNote = note
    return item
  })
}

/**
 * Turns `[{k, n}]` rows into `{ [k]: n }`. Every key becomes an own property, whatever its name: a
 * command named `__proto__` (any text can be a command) would otherwise set the object's prototype
 * and vanish from `/api/stats`.
 */
export function tally(rows: Row[]): Record<string, number> {
  const out: Record<string, number> = {}
  for (const row of rows)
    Object.defineProperty(out, String(row.k), { value: Number(row.n), enumerable: true, writable: true, configurable: true })
  return out
}
