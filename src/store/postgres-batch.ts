/**
 * A batch applied to PostgreSQL with one multi-row statement per table (`unnest` of arrays):
 * a few round trips per batch instead of one or two per record. The end state is what applying
 * the rows one by one gives:
 * - events: duplicates inside the batch are folded first (the first delivery's row, `deliveries`
 *   counting them all), since one `ON CONFLICT DO UPDATE` cannot touch a row twice;
 *   They go first: a before-send's event row holds its decision, which its message takes (or,
 *   for decisions recorded before 2026-11-28, the `decisions` table, no longer written).
 * - recalls: the first one of a key wins (`DO NOTHING`, rows in batch order), and is copied onto
 *   messages already stored; so are the decisions of the batch's before-sends;
 * - messages are inserted last, taking their recall and decision from the tables, so a recall or
 *   decision anywhere in the same batch is linked as well.
 */
import type pg from 'pg'
import type { EventRow, MessageRow, RecallRow, WriteRow } from './records.js'

const INSERT_RECALLS = `INSERT INTO recalls (key, recalled_at, recalled_by)
  SELECT k, a, b FROM unnest($1::text[], $2::bigint[], $3::text[]) WITH ORDINALITY AS t(k, a, b, ord) ORDER BY ord
  ON CONFLICT (key) DO NOTHING`
const MARK_RECALLED = `UPDATE messages m SET recalled_at = r.recalled_at, recalled_by = r.recalled_by
  FROM recalls r WHERE r.key = ANY($1::text[]) AND m.key = r.key AND m.recalled_at IS NULL`
// A before-send's decision, onto its message stored earlier (out of order). $1: event keys, $2: send keys.
const ATTACH_DECISIONS = `UPDATE messages m SET decision = e.decision
  FROM unnest($1::text[], $2::text[]) AS t(k, sk) JOIN events e ON e.idem_key = t.k
  WHERE m.send_key = t.sk AND m.decision IS NULL AND e.verdict IS DISTINCT FROM 'deny'`
const INSERT_MESSAGES = `INSERT INTO messages (key, send_key, family, group_id, topic_id, msg_seq, msg_key, from_account, to_account, msg_time, received_at, body, recalled_at, recalled_by, decision)
  SELECT t.k, t.sk, t.f, t.g, t.tp, t.seq, t.mk, t.fr, t.too, t.mt, t.ra, t.b, r.recalled_at, r.recalled_by, COALESCE(e.decision, eb.decision, d.decision)
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[], $8::text[], $9::text[], $10::bigint[], $11::bigint[], $12::text[], $13::text[], $14::text[])
    WITH ORDINALITY AS t(k, sk, f, g, tp, seq, mk, fr, too, mt, ra, b, dk, dkb, ord)
  LEFT JOIN recalls r ON r.key = t.k
  LEFT JOIN events e ON e.idem_key = t.dk AND e.verdict IS DISTINCT FROM 'deny'
  LEFT JOIN events eb ON eb.idem_key = t.dkb AND eb.verdict IS DISTINCT FROM 'deny'
  LEFT JOIN decisions d ON d.send_key = t.sk
  ORDER BY t.ord
  ON CONFLICT (key) DO NOTHING`
const INSERT_EVENTS = `INSERT INTO events (idem_key, command, sdk_app_id, client_ip, opt_platform, received_at, request_id, raw, valid, verdict, rule, decision, deliveries)
  SELECT k, c, s, ip, p, ra, rq, raw, v, vd, ru, d, n
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[], $8::bytea[], $9::smallint[], $10::text[], $11::text[], $12::text[], $13::int[])
    WITH ORDINALITY AS t(k, c, s, ip, p, ra, rq, raw, v, vd, ru, d, n, ord)
  ORDER BY ord
  ON CONFLICT (idem_key) DO UPDATE SET deliveries = events.deliveries + excluded.deliveries`
const COUNT_REJECTIONS = `INSERT INTO rejections (cause, count) SELECT c, n FROM unnest($1::text[], $2::bigint[]) AS t(c, n)
  ON CONFLICT (cause) DO UPDATE SET count = rejections.count + excluded.count`

/** Column arrays of some rows: `columns(rows, r => r.a, r => r.b)` → `[[a…], [b…]]`. */
function columns<R>(rows: R[], ...pick: Array<(r: R) => unknown>): unknown[][] {
  return pick.map((p) => rows.map(p))
}

/**
 * Applies the rows inside the caller's transaction.
 * @example await client.query('BEGIN'); await applyBatch(client, rows); await client.query('COMMIT')
 */
export async function applyBatch(client: pg.ClientBase, rows: WriteRow[]): Promise<void> {
  const query = (text: string, params: unknown[]) => client.query(text, params.map(withoutNul))
  const events = new Map<string, { row: EventRow; n: number }>()
  const messages: MessageRow[] = []
  const recalls: RecallRow[] = []
  const rejections = new Map<string, number>()
  for (const r of rows) {
    switch (r.kind) {
      case 'event': {
        const seen = events.get(r.idempotencyKey)
        if (seen === undefined) events.set(r.idempotencyKey, { row: r, n: 1 })
        else seen.n++
        break
      }
      case 'message':
        messages.push(r)
        break
      case 'recall':
        recalls.push(r)
        break
      case 'rejection':
        rejections.set(r.cause, (rejections.get(r.cause) ?? 0) + 1)
        break
    }
  }
  if (events.size > 0) {
    const list = [...events.values()]
    await query(
      INSERT_EVENTS,
      columns(
        list,
        (e) => e.row.idempotencyKey, (e) => e.row.command, (e) => e.row.sdkAppId, (e) => e.row.clientIp, (e) => e.row.optPlatform,
        (e) => e.row.receivedAt, (e) => e.row.requestId, (e) => e.row.raw, (e) => (e.row.valid ? 1 : 0), (e) => e.row.verdict,
        (e) => e.row.rule, (e) => e.row.decision, (e) => e.n,
      ),
    )
  }
  if (recalls.length > 0) {
    await query(INSERT_RECALLS, columns(recalls, (r) => r.key, (r) => r.recalledAt, (r) => r.recalledBy))
    await query(MARK_RECALLED, [recalls.map((r) => r.key)])
  }
  const linked = [...events.values()].filter((e) => e.row.sendKey !== null)
  if (linked.length > 0) await query(ATTACH_DECISIONS, columns(linked, (e) => e.row.idempotencyKey, (e) => e.row.sendKey))
  if (messages.length > 0) {
    await query(
      INSERT_MESSAGES,
      columns(
        messages,
        (m) => m.key, (m) => m.sendKey, (m) => m.family, (m) => m.groupId, (m) => m.topicId, (m) => m.msgSeq, (m) => m.msgKey,
        (m) => m.fromAccount, (m) => m.toAccount, (m) => m.msgTime, (m) => m.receivedAt, (m) => m.body, (m) => m.decisionKey, (m) => m.decisionKeyBare,
      ),
    )
  }
  if (rejections.size > 0) await query(COUNT_REJECTIONS, [[...rejections.keys()], [...rejections.values()]])
}

/**
 * PostgreSQL refuses U+0000 in text, and a record it refuses would be retried with every later batch
 * (one bad before-send callback — `ClientIP=%00` — would block all commits). Text parameters get
 * U+FFFD instead, the same way every time, so keys still match; the raw body keeps the exact bytes.
 */
function withoutNul(param: unknown): unknown {
  if (typeof param === 'string') return param.includes('\u0000') ? param.replaceAll('\u0000', '\uFFFD') : param
  if (Array.isArray(param)) return param.some((p) => typeof p === 'string' && p.includes('\u0000')) ? param.map(withoutNul) : param
  return param
}
