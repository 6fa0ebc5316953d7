/** Opaque pagination cursors: the last row id seen, base64url, so clients do not build them by hand. */
import { StoreQueryError } from './store-query-error.js'

export function encodeCursor(id: string): string {
  return Buffer.from(`id:${id}`, 'utf8').toString('base64url')
}

/** @throws StoreQueryError when the cursor was not made by encodeCursor. */
export function decodeCursor(cursor: string): number {
  const text = Buffer.from(cursor, 'base64url').toString('utf8')
  const m = /^id:(\d{1,15})$/.exec(text)
  if (m === null) throw new StoreQueryError('cursor', 'not a cursor returned by this API (pass nextCursor as is)')
  return Number(m[1])
}
