/**
 * A batch applied to PostgreSQL with a few multi-row statements (`unnest` of arrays), inside the
 * caller's READ COMMITTED transaction. Several transactions run at once — pipelined commits of one
 * instance, and any number of instances over one database — and the end state is the same for
 * every interleaving:
 * - every row a batch writes is keyed by a unique key, and written in one canonical order (table by
 *   table: events, messages, counts; keys sorted inside a table), so two transactions that touch
 *   the same keys wait for each other in the same order and never deadlock;
 * - a message and its recall meet on ONE row (`messages.key`): a recall whose message is not
 *   stored yet inserts the row without a body, the message fills it. Whichever of the two comes
 *   second either finds the first's row committed, or waits on its row lock and then finds it —
 *   never a message and a recall that both miss each other;
 * - a message's decision is not copied: it is joined from its before-send's event row when read;
 * - `/api/stats` numbers change in the same transaction, computed from what the statements report
 *   they really inserted or changed (a redelivery counts once).
 * Event and message ids are still handed out in arrival order (`nextval` in batch order), so
 * listings stay newest first although rows are inserted in key order.
 */
import type pg from 'pg'
import type { EventRow, MessageRow, RecallRow, WriteRow } from './records.js'

// $1…: columns in arrival order; ids drawn in that order, rows inserted in key order. Answers
// only the redelivered keys (nearly always none): a row back per event cost ~5 µs a record to
// parse, and the counts need only the exceptions.
const INSERT_EVENTS = `WITH ins AS (INSERT INTO events (id, idem_key, command, sdk_app_id, client_ip, opt_platform, received_at, request_id, raw, valid, verdict, rule, decision, deliveries)
  SELECT id, k, c, s, ip, p, ra, rq, raw, v, vd, ru, d, n FROM (
    SELECT nextval(pg_get_serial_sequence('events', 'id')) AS id, u.* FROM (
      SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[], $8::bytea[], $9::smallint[], $10::text[], $11::text[], $12::text[], $13::int[])
        WITH ORDINALITY AS t(k, c, s, ip, p, ra, rq, raw, v, vd, ru, d, n, ord) ORDER BY ord) u) x
  ORDER BY k COLLATE "C"
  ON CONFLICT (idem_key) DO UPDATE SET deliveries = events.deliveries + excluded.deliveries
  RETURNING idem_key, (xmax = 0) AS fresh)
  SELECT idem_key FROM ins WHERE NOT fresh`

// One row per message key: the message, its recall, or both. A row that exists already is only
// locked here (DO UPDATE … WHERE false locks it without changing it) and completed below. Answers
// the keys that were stored already (not inserted), nearly always none.
const INSERT_MESSAGES = `WITH ins AS (INSERT INTO messages (id, key, family, group_id, topic_id, msg_seq, msg_key, from_account, to_account, msg_time, received_at, body, decision_key, decision_key_bare, recalled_at, recalled_by)
  SELECT id, k, f, g, tp, seq, mk, fr, too, mt, ra, b, dk, dkb, rat, rby FROM (
    SELECT nextval(pg_get_serial_sequence('messages', 'id')) AS id, u.* FROM (
      SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::text[], $8::text[], $9::bigint[], $10::bigint[], $11::text[], $12::text[], $13::text[], $14::bigint[], $15::text[])
        WITH ORDINALITY AS t(k, f, g, tp, seq, mk, fr, too, mt, ra, b, dk, dkb, rat, rby, ord) ORDER BY ord) u) x
  ORDER BY k COLLATE "C"
  ON CONFLICT (key) DO UPDATE SET recalled_by = messages.recalled_by WHERE false
  RETURNING key)
  SELECT t.k AS key FROM unnest($1::text[]) AS t(k) WHERE NOT EXISTS (SELECT 1 FROM ins WHERE ins.key = t.k)`
// A message whose row was a recall awaiting it (rows already locked by INSERT_MESSAGES).
const FILL_MESSAGES = `UPDATE messages m SET family = t.f, group_id = t.g, topic_id = t.tp, msg_seq = t.seq, msg_key = t.mk, from_account = t.fr, to_account = t.too,
    msg_time = t.mt, received_at = t.ra, body = t.b, decision_key = t.dk, decision_key_bare = t.dkb
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::text[], $8::text[], $9::bigint[], $10::bigint[], $11::text[], $12::text[], $13::text[])
    AS t(k, f, g, tp, seq, mk, fr, too, mt, ra, b, dk, dkb)
  WHERE m.key = t.k AND m.body IS NULL
  RETURNING m.key`
// A recall of a message stored earlier; the first recall of a key wins.
const MARK_RECALLED = `UPDATE messages m SET recalled_at = t.a, recalled_by = t.b
  FROM unnest($1::text[], $2::bigint[], $3::text[]) AS t(k, a, b)
  WHERE m.key = t.k AND m.recalled_at IS NULL
  RETURNING m.key`
// `slot`: the connection's, so concurrent commits mostly change different rows.
const ADD_COUNTS = `INSERT INTO counts (kind, name, slot, n)
  SELECT k, nm, (pg_backend_pid() % 16)::smallint, n FROM unnest($1::text[], $2::text[], $3::bigint[]) AS t(k, nm, n)
  ORDER BY k COLLATE "C", nm COLLATE "C"
  ON CONFLICT (kind, name, slot) DO UPDATE SET n = counts.n + excluded.n`

/**
 * Each statement is named, so PostgreSQL parses and plans it once per connection (node-postgres
 * prepares it on first use), not for every batch: ~half of the server's CPU per record at 32 a
 * batch (bench/write-path.ts --backend pg). Every statement's result columns are listed, so a
 * migration run by a newer instance meanwhile cannot change a prepared statement's result type.
 */
const STATEMENT_NAMES = new Map<string, string>([
  [INSERT_EVENTS, 'timhook_insert_events'],
  [INSERT_MESSAGES, 'timhook_insert_messages'],
  [FILL_MESSAGES, 'timhook_fill_messages'],
  [MARK_RECALLED, 'timhook_mark_recalled'],
  [ADD_COUNTS, 'timhook_add_counts'],
])

/** Column arrays of some rows: `columns(rows, r => r.a, r => r.b)` → `[[a…], [b…]]`. */
function columns<R>(rows: R[], ...pick: Array<(r: R) => unknown>): unknown[][] {
  return pick.map((p) => rows.map(p))
}

/** The kinds of `counts` rows, as `/api/stats` reads them. */
export const COUNT_KINDS = { command: 'command', verdict: 'verdict', rule: 'rule', rejection: 'rejection', messages: 'messages' } as const

interface MessageSlot {
  /** As stored (see withoutNul). */
  key: string
  message?: MessageRow
  recall?: RecallRow
}

class Counts {
  readonly map = new Map<string, { kind: string; name: string; n: number }>()
  add(kind: string, name: string, n = 1): void {
    const id = `${kind}\0${name}`
    const c = this.map.get(id)
    if (c === undefined) this.map.set(id, { kind, name, n })
    else c.n += n
  }
}

/**
 * Applies the rows inside the caller's transaction.
 * @example await client.query('BEGIN'); await applyBatch(client, rows); await client.query('COMMIT')
 */
export async function applyBatch(client: pg.ClientBase, rows: WriteRow[]): Promise<void> {
  const query = async (text: string, params: unknown[]) =>
    (await client.query({ name: STATEMENT_NAMES.get(text), text, values: params.map(withoutNul) })).rows as Array<Record<string, unknown>>
  const events = new Map<string, { row: EventRow; n: number }>()
  const messages = new Map<string, MessageSlot>()
  const counts = new Counts()
  const slot = (key: string) => {
    let s = messages.get(key)
    if (s === undefined) messages.set(key, (s = { key }))
    return s
  }
  for (const r of rows) {
    switch (r.kind) {
      case 'event': {
        const key = withoutNul(r.idempotencyKey) as string
        const seen = events.get(key)
        if (seen === undefined) events.set(key, { row: r, n: 1 })
        else seen.n++
        break
      }
      case 'message':
        slot(withoutNul(r.key) as string).message ??= r
        break
      case 'recall':
        slot(withoutNul(r.key) as string).recall ??= r
        break
      case 'rejection':
        counts.add(COUNT_KINDS.rejection, r.cause)
        break
    }
  }
  if (events.size > 0) {
    const list = [...events.values()]
    const result = await query(
      INSERT_EVENTS,
      columns(
        list,
        (e) => e.row.idempotencyKey,
        (e) => e.row.command,
        (e) => e.row.sdkAppId,
        (e) => e.row.clientIp,
        (e) => e.row.optPlatform,
        (e) => e.row.receivedAt,
        (e) => e.row.requestId,
        (e) => e.row.raw,
        (e) => (e.row.valid ? 1 : 0),
        (e) => e.row.verdict,
        (e) => e.row.rule,
        (e) => e.row.decision,
        (e) => e.n,
      ),
    )
    const redelivered = new Set(result.map((r) => String(r.idem_key)))
    for (const [key, { row: e }] of events) {
      if (redelivered.has(key)) continue
      counts.add(COUNT_KINDS.command, e.command)
      if (e.verdict !== null) counts.add(COUNT_KINDS.verdict, e.verdict)
      if (e.rule !== null) counts.add(COUNT_KINDS.rule, e.rule)
    }
  }
  if (messages.size > 0) await applyMessages(query, [...messages.values()], counts)
  if (counts.map.size > 0) {
    const list = [...counts.map.values()].filter((c) => c.n !== 0)
    if (list.length > 0)
      await query(
        ADD_COUNTS,
        columns(
          list,
          (c) => c.kind,
          (c) => c.name,
          (c) => c.n,
        ),
      )
  }
}

type Query = (text: string, params: unknown[]) => Promise<Array<Record<string, unknown>>>

async function applyMessages(query: Query, slots: MessageSlot[], counts: Counts): Promise<void> {
  const m = (s: MessageSlot) => s.message
  const existing = await query(
    INSERT_MESSAGES,
    columns(
      slots,
      (s) => s.key,
      (s) => m(s)?.family ?? null,
      (s) => m(s)?.groupId ?? null,
      (s) => m(s)?.topicId ?? null,
      (s) => m(s)?.msgSeq ?? null,
      (s) => m(s)?.msgKey ?? null,
      (s) => m(s)?.fromAccount ?? null,
      (s) => m(s)?.toAccount ?? null,
      (s) => m(s)?.msgTime ?? null,
      (s) => m(s)?.receivedAt ?? null,
      (s) => m(s)?.body ?? null,
      (s) => decisionKeys(m(s))[0],
      (s) => decisionKeys(m(s))[1],
      (s) => s.recall?.recalledAt ?? null,
      (s) => s.recall?.recalledBy ?? null,
    ),
  )
  const stored = new Set(existing.map((r) => String(r.key)))
  const fill: MessageSlot[] = []
  const recall: MessageSlot[] = []
  for (const s of slots) {
    if (!stored.has(s.key)) {
      if (s.message !== undefined) counts.add(COUNT_KINDS.messages, 'total')
      if (s.message !== undefined && s.recall !== undefined) counts.add(COUNT_KINDS.messages, 'recalled')
      if (s.message === undefined) counts.add(COUNT_KINDS.messages, 'awaiting')
      continue
    }
    if (s.message !== undefined) fill.push(s)
    if (s.recall !== undefined) recall.push(s)
  }
  if (fill.length > 0) {
    const filled = await query(
      FILL_MESSAGES,
      columns(
        fill,
        (s) => s.key,
        (s) => m(s)!.family,
        (s) => m(s)!.groupId,
        (s) => m(s)!.topicId,
        (s) => m(s)!.msgSeq,
        (s) => m(s)!.msgKey,
        (s) => m(s)!.fromAccount,
        (s) => m(s)!.toAccount,
        (s) => m(s)!.msgTime,
        (s) => m(s)!.receivedAt,
        (s) => m(s)!.body,
        (s) => decisionKeys(m(s))[0],
        (s) => decisionKeys(m(s))[1],
      ),
    )
    // Each was a recall awaiting its message: one more message, one more recalled, one fewer waiting.
    counts.add(COUNT_KINDS.messages, 'total', filled.length)
    counts.add(COUNT_KINDS.messages, 'recalled', filled.length)
    counts.add(COUNT_KINDS.messages, 'awaiting', -filled.length)
  }
  if (recall.length > 0) {
    // Rows that were stubs are recalled already, so each row changed here is a stored message.
    const marked = await query(
      MARK_RECALLED,
      columns(
        recall,
        (s) => s.key,
        (s) => s.recall!.recalledAt,
        (s) => s.recall!.recalledBy,
      ),
    )
    counts.add(COUNT_KINDS.messages, 'recalled', marked.length)
  }
}

/** Where a message's decision is found: its before-send's event key, and the one without `MsgId` when it differs. */
function decisionKeys(m: MessageRow | undefined): [string | null, string | null] {
  if (m === undefined) return [null, null]
  const key = m.decisionKey === '' ? null : m.decisionKey
  return [key, m.decisionKeyBare === '' || m.decisionKeyBare === m.decisionKey ? null : m.decisionKeyBare]
}

/**
 * PostgreSQL refuses U+0000 in text, and a record it refuses would be refused again with every
 * redelivery. Text parameters get U+FFFD instead, the same way every time, so keys still match;
 * the raw body keeps the exact bytes.
 */
function withoutNul(param: unknown): unknown {
  if (typeof param === 'string') return param.includes('\u0000') ? param.replaceAll('\u0000', '\uFFFD') : param
  if (Array.isArray(param)) return param.some((p) => typeof p === 'string' && p.includes('\u0000')) ? param.map(withoutNul) : param
  return param
}
