/**
 * A page of the admin API as JSON within a byte budget: items are serialized one by one and the
 * page stops before the item that would take it past the budget (a page holds at least one item);
 * `nextCursor` then continues right after the last item it holds. The store's SQLite readers fit
 * a page to the same budget in their thread (`fitPage`), so the event loop never receives more
 * than one page's worth of items, whatever `limit` and the stored bodies are.
 */
import { encodeCursor } from './cursor.js'
import type { Page } from './store.js'

/** The most JSON one page answers: items past it wait for the next page. */
export const PAGE_BYTES = 1024 * 1024

/** Each item's JSON, as many as fit in `budget` bytes (at least one). An item that cannot be serialized becomes its id and a note instead of failing the page. */
function within(page: Page<{ id: string }>, budget: number): string[] {
  const texts: string[] = []
  let bytes = 0
  for (const item of page.items) {
    let text: string
    try {
      text = JSON.stringify(item)
    } catch (err) {
      text = JSON.stringify({ id: item.id, body: null, bodyNote: { reason: 'NOT_SERIALIZABLE', message: String(err) } })
    }
    const size = Buffer.byteLength(text) + 1
    if (texts.length > 0 && bytes + size > budget) break
    texts.push(text)
    bytes += size
  }
  return texts
}

const cursorAfter = (page: Page<{ id: string }>, sent: number) =>
  sent < page.items.length ? encodeCursor(page.items[sent - 1]!.id) : page.nextCursor

/** The page as JSON, within `budget` bytes. */
export function pageJson(page: Page<{ id: string }>, budget = PAGE_BYTES): string {
  const texts = within(page, budget)
  return `{"items":[${texts.join(',')}],"nextCursor":${JSON.stringify(cursorAfter(page, texts.length))}}`
}

/** The page cut to the items `pageJson` would answer, with the same `nextCursor`. */
export function fitPage<T extends { id: string }>(page: Page<T>, budget = PAGE_BYTES): Page<T> {
  const sent = within(page, budget).length
  return sent === page.items.length ? page : { items: page.items.slice(0, sent), nextCursor: cursorAfter(page, sent) }
}
