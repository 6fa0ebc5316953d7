/**
 * The parts of a before-send event that conditions read: the text fields of `MsgBody` (folded on
 * demand, once per decision), sender, group. A mask or stamp replaces the body; the rules after it
 * see the new one.
 */
import type { MsgElement } from '../protocol/generated/events.js'
import { beforeSendMessageKey } from '../protocol/idempotency-key.js'
import { foldText, type Folded } from './fold.js'
import type { Family, Field } from './policy-schema.js'

/** One string of the body that rules can match: a TIMTextElem Text, or a TIMCustomElem Data/Desc. */
export interface TextField {
  readonly elem: number
  readonly key: 'Text' | 'Data' | 'Desc'
  readonly kind: Field
  readonly text: string
}

export class MessageView {
  private fieldList: TextField[] | undefined
  private foldedList: Array<Folded | undefined> = []
  private key: string | undefined | null = null // null: not computed yet
  /** Changes when the body is replaced, so per-message memos know to start again. */
  version = 0
  /** The element appended to the body as received, when that is the body's only change (a stamp on an unmasked message). */
  appendedToReceived: MsgElement | undefined = undefined

  constructor(
    /** `Group.CallbackBeforeSendMsg` or `C2C.CallbackBeforeSendMsg`. */
    readonly command: 'Group.CallbackBeforeSendMsg' | 'C2C.CallbackBeforeSendMsg',
    readonly family: Family,
    readonly sender: string,
    readonly groupId: string | undefined,
    readonly groupType: string | undefined,
    public body: readonly MsgElement[],
    /** The before-send event, for `messageKey` (not read otherwise). */
    private readonly event?: Record<string, unknown>,
  ) {
    this.received = body
  }

  /** The body as received. */
  readonly received: readonly MsgElement[]

  /** The message's identity (`beforeSendMessageKey`), so that a rate limit counts a redelivery once; undefined when the event has none. */
  messageKey(): string | undefined {
    if (this.key === null) {
      this.key = this.event === undefined ? undefined : beforeSendMessageKey(this.command, this.event)
    }
    return this.key
  }

  fields(): readonly TextField[] {
    if (this.fieldList !== undefined) return this.fieldList
    const out: TextField[] = []
    const body = this.body
    for (let i = 0; i < body.length; i++) addFields(out, body[i], i)
    this.fieldList = out
    return out
  }

  folded(index: number): Folded {
    let f = this.foldedList[index]
    if (f === undefined) {
      f = foldText(this.fields()[index]!.text)
      this.foldedList[index] = f
    }
    return f
  }

  /** Characters (code points) of the text elements. */
  textLength(): number {
    let n = 0
    for (const f of this.fields()) {
      if (f.kind !== 'text') continue
      const t = f.text
      n += t.length
      for (let i = 0; i < t.length; i++) {
        const c = t.charCodeAt(i)
        if (c >= 0xd800 && c <= 0xdbff) n-- // a surrogate pair is one character
      }
    }
    return n
  }

  /**
   * Appends an element to the body (a stamp): the fields listed and folded so far keep their
   * indices and stay valid (so `version`, which tells memos the fields changed, stays), and the
   * new element's fields are added after them.
   */
  appendElement(el: MsgElement): void {
    const body = this.body
    const next = body.slice()
    next.push(el)
    this.appendedToReceived = body === this.received ? el : undefined
    this.body = next
    if (this.fieldList !== undefined) this.fieldList = this.fieldList.concat(fieldsOf(el, body.length))
  }

  replaceBody(body: readonly MsgElement[]): void {
    this.body = body
    this.appendedToReceived = undefined
    this.version++
    this.fieldList = undefined
    this.foldedList = []
  }
}

/** Adds the text fields of `el`, the body's element `i`, to `out`. */
function addFields(out: TextField[], el: MsgElement | undefined, i: number): void {
  const content = el?.MsgContent as Record<string, unknown> | undefined
  if (content === undefined || content === null || typeof content !== 'object') return
  if (el!.MsgType === 'TIMTextElem') {
    if (typeof content.Text === 'string') out.push({ elem: i, key: 'Text', kind: 'text', text: content.Text })
  } else if (el!.MsgType === 'TIMCustomElem') {
    if (typeof content.Data === 'string') out.push({ elem: i, key: 'Data', kind: 'custom', text: content.Data })
    if (typeof content.Desc === 'string') out.push({ elem: i, key: 'Desc', kind: 'custom', text: content.Desc })
  }
}

function fieldsOf(el: MsgElement, i: number): TextField[] {
  const out: TextField[] = []
  addFields(out, el, i)
  return out
}

/** `MsgBody[0].MsgContent.Text` */
export function fieldPath(f: TextField): string {
  return `MsgBody[${f.elem}].MsgContent.${f.key}`
}
