/**
 * How a batch of rows travels to the SQLite writer thread (src/store/sqlite-writer.ts): both sides
 * of the hand-over, in a module of its own so the thread loads nothing else of the main side.
 */
import type { EventRow, MessageRow, RecallRow, WriteRow } from './records.js'

/**
 * A batch as posted: every row's fields in ONE flat array of strings, numbers, booleans and nulls
 * (a kind code, then the fields in a fixed order), and the raw bodies in one buffer that is
 * transferred, not cloned (an event's `raw` is the end of its bytes in it). Cloning is paid by
 * the value, not by the object: row objects cost their property names and shapes twice (written,
 * then rebuilt by the thread), and each body cloned alone copied its whole backing store (an
 * 8 KiB pool slab, or the socket's read buffer). bench/write-path.ts measures the three ways.
 */
export type PackedRows = { values: Array<string | number | boolean | null>; bytes: ArrayBuffer }

const EVENT = 0
const MESSAGE = 1
const RECALL = 2
const REJECTION = 3

export function packRows(rows: WriteRow[]): PackedRows {
  let size = 0
  for (const r of rows) if (r.kind === 'event') size += r.raw.length
  const buf = Buffer.allocUnsafeSlow(size)
  const v: PackedRows['values'] = []
  let end = 0
  for (const r of rows) {
    switch (r.kind) {
      case 'event':
        end += r.raw.copy(buf, end)
        v.push(EVENT, r.idempotencyKey, r.command, r.sdkAppId, r.clientIp, r.optPlatform, r.receivedAt, r.requestId, end)
        v.push(r.valid, r.verdict, r.rule, r.decision, r.sendKey)
        break
      case 'message':
        v.push(MESSAGE, r.key, r.sendKey, r.decisionKey, r.decisionKeyBare, r.family, r.groupId, r.topicId, r.msgSeq)
        v.push(r.msgKey, r.fromAccount, r.toAccount, r.msgTime, r.receivedAt, r.body)
        break
      case 'recall':
        v.push(RECALL, r.key, r.recalledAt, r.recalledBy)
        break
      case 'rejection':
        v.push(REJECTION, r.cause)
        break
    }
  }
  return { values: v, bytes: buf.buffer as ArrayBuffer }
}

/** The thread's side of `packRows`: the rows, with their raw bodies as views of the one buffer. */
export function unpackRows(v: PackedRows['values'], bytes: ArrayBuffer): WriteRow[] {
  const buf = Buffer.from(bytes)
  const rows: WriteRow[] = []
  const s = (i: number) => v[i] as string
  const n = (i: number) => v[i] as string | null
  const num = (i: number) => v[i] as number | null
  let start = 0
  for (let i = 0; i < v.length;) {
    switch (v[i]) {
      case EVENT: {
        const end = v[i + 8] as number
        const row: EventRow = {
          kind: 'event',
          idempotencyKey: s(i + 1),
          command: s(i + 2),
          sdkAppId: s(i + 3),
          clientIp: n(i + 4),
          optPlatform: n(i + 5),
          receivedAt: v[i + 6] as number,
          requestId: s(i + 7),
          raw: buf.subarray(start, end),
          valid: v[i + 9] as boolean,
          verdict: n(i + 10),
          rule: n(i + 11),
          decision: n(i + 12),
          sendKey: n(i + 13),
        }
        rows.push(row)
        start = end
        i += 14
        break
      }
      case MESSAGE: {
        const row: MessageRow = {
          kind: 'message',
          key: s(i + 1),
          sendKey: s(i + 2),
          decisionKey: s(i + 3),
          decisionKeyBare: s(i + 4),
          family: v[i + 5] as MessageRow['family'],
          groupId: n(i + 6),
          topicId: n(i + 7),
          msgSeq: num(i + 8),
          msgKey: n(i + 9),
          fromAccount: n(i + 10),
          toAccount: n(i + 11),
          msgTime: num(i + 12),
          receivedAt: v[i + 13] as number,
          body: s(i + 14),
        }
        rows.push(row)
        i += 15
        break
      }
      case RECALL: {
        const row: RecallRow = { kind: 'recall', key: s(i + 1), recalledAt: v[i + 2] as number, recalledBy: n(i + 3) }
        rows.push(row)
        i += 4
        break
      }
      case REJECTION:
        rows.push({ kind: 'rejection', cause: s(i + 1) })
        i += 2
        break
      default:
        throw new Error(`a packed batch holds an unknown row kind at ${i}: ${String(v[i])}`)
    }
  }
  return rows
}
