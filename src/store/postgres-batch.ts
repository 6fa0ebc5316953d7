/**
 * A batch applied to PostgreSQL in ONE round trip: one call of `timhook_apply_batch` (created by
 * the migrations, src/store/postgres-migrations.ts), which runs the batch's statements on the
 * server, as its own transaction (no BEGIN, no COMMIT: a statement outside a transaction block
 * commits before its answer). Several transactions run at once — pipelined commits of one
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
 * - `/api/stats` numbers change in the same transaction, computed by the server from what its
 *   statements really inserted or changed (a redelivery counts once).
 * Event and message ids are still handed out in arrival order, so listings stay newest first
 * although rows are inserted in key order.
 *
 * What the client does per record is kept small, because it runs on the event loop that also
 * answers HTTP: the rows go as one JSON array per table (JSON.stringify is native; node-postgres
 * quotes every element of a `text[]` parameter in JavaScript), the raw bodies as one binary `bytea`
 * parameter with each body's offset and length (a `bytea[]` parameter is sent as hex text), and
 * the answer is one empty row.
 */
import type { WriteRow } from './records.js'

/** The batch's one statement: named, so each connection parses and plans it once. */
export const APPLY_BATCH = {
  name: 'timhook_apply_batch',
  text: 'SELECT timhook_apply_batch($1::jsonb, $2::bytea, $3::jsonb, $4::jsonb)',
} as const

/** The kinds of `counts` rows, as `/api/stats` reads them (written by `timhook_apply_batch`). */
export const COUNT_KINDS = { command: 'command', verdict: 'verdict', rule: 'rule', rejection: 'rejection', messages: 'messages' } as const

/** Index of the deliveries column in an event's JSON row. */
const DELIVERIES = 13

/**
 * The parameters of APPLY_BATCH for the rows, in its order: events, raw bodies, messages, rejections.
 * - event: `[key, command, sdkAppId, clientIp, optPlatform, receivedAt, requestId, rawOffset (1-based), rawLength, valid, verdict, rule, decision, deliveries]`,
 *   one per idempotency key (a key repeated in the batch counts its deliveries);
 * - message: `[key, family, groupId, topicId, msgSeq, msgKey, from, to, msgTime, receivedAt, body, decisionKey, decisionKeyBare, recalledAt, recalledBy]`,
 *   one per message key, with the first message and the first recall of that key in the batch;
 * - rejection: `[cause, n]`.
 * @example const { rows } = await client.query({ ...APPLY_BATCH, values: batchParams(rows), rowMode: 'array' })
 */
export function batchParams(rows: WriteRow[]): [string, Buffer, string, string] {
  const eventAt = new Map<string, number>()
  const events: unknown[][] = []
  const raws: Buffer[] = []
  let rawBytes = 0
  const messageAt = new Map<string, number>()
  const messages: unknown[][] = []
  const rejections = new Map<string, number>()
  const slot = (key: string) => {
    let i = messageAt.get(key)
    if (i === undefined) {
      i = messages.length
      messageAt.set(key, i)
      messages.push([key, null, null, null, null, null, null, null, null, null, null, null, null, null, null])
    }
    return messages[i]!
  }
  for (const r of rows) {
    switch (r.kind) {
      case 'event': {
        const key = storedText(r.idempotencyKey)
        const i = eventAt.get(key)
        if (i !== undefined) {
          ;(events[i]![DELIVERIES] as number)++
          break
        }
        eventAt.set(key, events.length)
        events.push([
          key,
          r.command,
          r.sdkAppId,
          r.clientIp,
          r.optPlatform,
          r.receivedAt,
          r.requestId,
          rawBytes + 1,
          r.raw.length,
          r.valid ? 1 : 0,
          r.verdict,
          r.rule,
          r.decision,
          1,
        ])
        raws.push(r.raw)
        rawBytes += r.raw.length
        break
      }
      case 'message': {
        const m = slot(storedText(r.key))
        if (m[10] !== null) break
        m[1] = r.family
        m[2] = r.groupId
        m[3] = r.topicId
        m[4] = r.msgSeq
        m[5] = r.msgKey
        m[6] = r.fromAccount
        m[7] = r.toAccount
        m[8] = r.msgTime
        m[9] = r.receivedAt
        m[10] = r.body
        m[11] = r.decisionKey === '' ? null : r.decisionKey
        m[12] = r.decisionKeyBare === '' || r.decisionKeyBare === r.decisionKey ? null : r.decisionKeyBare
        break
      }
      case 'recall': {
        const m = slot(storedText(r.key))
        if (m[13] !== null) break
        m[13] = r.recalledAt
        m[14] = r.recalledBy
        break
      }
      case 'rejection':
        rejections.set(r.cause, (rejections.get(r.cause) ?? 0) + 1)
        break
    }
  }
  return [
    storedJson(events),
    raws.length === 1 ? raws[0]! : Buffer.concat(raws, rawBytes),
    storedJson(messages),
    storedJson([...rejections]),
  ]
}

/**
 * PostgreSQL refuses U+0000 in text, and a record it refuses would be refused again with every
 * redelivery; a lone surrogate is not UTF-8 at all. Text gets U+FFFD instead, the same way every
 * time, so keys still match (what node-postgres did for a lone surrogate when it wrote a text
 * parameter as UTF-8); the raw body keeps the exact bytes.
 */
export function storedText(s: string): string {
  const t = (s.includes('\u0000') ? s.replaceAll('\u0000', '\uFFFD') : s) as WellFormed
  return t.isWellFormed() ? t : t.toWellFormed()
}

/** String methods of ES2024 (Node 20+), not in the compiler's library here. */
type WellFormed = string & { isWellFormed(): boolean; toWellFormed(): string }

/**
 * The rows as JSON that `jsonb` accepts. JSON.stringify writes U+0000 and a lone surrogate as a
 * `\u` escape, which `jsonb` refuses: only when the text holds such an escape (or a backslash before
 * "u0000" or "ud" in a string, which looks like one) is it written again with every string made
 * storable — nearly never, so the usual cost is one native JSON.stringify and two scans.
 */
export function storedJson(rows: unknown[]): string {
  const json = JSON.stringify(rows)
  if (!json.includes('\\u0000') && !json.includes('\\ud')) return json
  return JSON.stringify(rows, (_key, value: unknown) => (typeof value === 'string' ? storedText(value) : value))
}
