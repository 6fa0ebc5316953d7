/**
 * How a batch of rows travels to the SQLite writer thread (src/store/sqlite-writer.ts): both sides
 * of the hand-over, in a module of its own so the thread loads nothing else of the main side.
 */
import type { EventRow, WriteRow } from './records.js'

/** A row as posted: an event's raw body is the end of its bytes in the batch's buffer. */
export type PostedRow = Exclude<WriteRow, EventRow> | (Omit<EventRow, 'raw'> & { raw: number })

/**
 * A batch as posted to the thread: the rows without their raw bodies, and the bodies in one
 * buffer that is transferred, not cloned. Cloned one by one, each body would copy its whole
 * backing store (an 8 KiB pool slab, or the socket's read buffer), and each row cost twice the CPU
 * to post (bench/write-path.ts measures both).
 */
export function packRows(rows: WriteRow[]): { rows: PostedRow[]; bytes: ArrayBuffer } {
  let size = 0
  for (const r of rows) if (r.kind === 'event') size += r.raw.length
  const buf = Buffer.allocUnsafeSlow(size)
  let end = 0
  const posted = rows.map((r): PostedRow => {
    if (r.kind !== 'event') return r
    end += r.raw.copy(buf, end)
    return { ...r, raw: end }
  })
  return { rows: posted, bytes: buf.buffer as ArrayBuffer }
}

/** The thread's side of `packRows`: the rows with their raw bodies (views of the one buffer). */
export function unpackRows(rows: PostedRow[], bytes: ArrayBuffer): WriteRow[] {
  const buf = Buffer.from(bytes)
  let start = 0
  for (const r of rows) {
    if (r.kind !== 'event') continue
    const end = r.raw
    ;(r as unknown as EventRow).raw = buf.subarray(start, end)
    start = end
  }
  return rows as WriteRow[]
}
