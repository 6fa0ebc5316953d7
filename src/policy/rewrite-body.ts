/** Rewriting a message body: masking matched spans, stamping a TIMCustomElem. Never mutates the input. */
import type { MsgElement } from '../protocol/generated/events.js'
import type { Range } from './compile-condition.js'
import type { TextField } from './message-view.js'

/**
 * Replaces every span in `ranges` (merged where they overlap). A one-character `mask` replaces
 * each character (`13812345678` → `***********`); a longer one replaces each span once.
 * Returns null when nothing changed.
 * @example maskBody(body, fields, [{ field: 0, start: 4, end: 7 }], '*')
 */
export function maskBody(
  body: readonly MsgElement[],
  fields: readonly TextField[],
  ranges: readonly Range[],
  mask: string,
): MsgElement[] | null {
  if (ranges.length === 0) return null
  const perChar = [...mask].length === 1
  const byField = new Map<number, Range[]>()
  for (const r of ranges) {
    const list = byField.get(r.field)
    if (list === undefined) byField.set(r.field, [r])
    else list.push(r)
  }
  const out = body.slice()
  for (const [index, list] of byField) {
    const f = fields[index]!
    list.sort((a, b) => a.start - b.start || b.end - a.end)
    let text = ''
    let at = 0
    for (const r of list) {
      if (r.end <= at) continue
      const start = Math.max(r.start, at)
      text += f.text.slice(at, start)
      text += perChar ? mask.repeat([...f.text.slice(start, r.end)].length) : start === r.start ? mask : ''
      at = r.end
    }
    text += f.text.slice(at)
    const el = out[f.elem]!
    out[f.elem] = { ...el, MsgContent: { ...(el.MsgContent as Record<string, unknown>), [f.key]: text } } as MsgElement
  }
  return out
}

/** The element a stamp appends (the docs' example: `Desc: "CustomElement.MemberLevel"`, `Data: "LV1"`). */
export function stampElement(data: string, desc: string | undefined, ext: string | undefined): MsgElement {
  const content: Record<string, string> = { Data: data }
  if (desc !== undefined) content.Desc = desc
  if (ext !== undefined) content.Ext = ext
  return { MsgType: 'TIMCustomElem', MsgContent: content }
}
