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
  ) {}

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
    for (let i = 0; i < body.length; i++) {
      const el = body[i]
      const content = el?.MsgContent as Record<string, unknown> | undefined
      if (content === undefined || content === null || typeof content !== 'object') continue
      if (el!.MsgType === 'TIMTextElem') {
        if (typeof content.Text === 'string') out.push({ elem: i, key: 'Text', kind: 'text', text: content.Text })
      } else if (el!.MsgType === 'TIMCustomElem') {
        if (typeof content.Data === 'string') out.push({ elem: i, key: 'Data', kind: 'custom', text: content.Data })
        if (typeof content.Desc === 'string') out.push({ elem: i, key: 'Desc', kind: 'custom', text: content.Desc })
      }
    }
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

  replaceBody(body: readonly MsgElement[]): void {
    this.body = body
    this.version++
    this.fieldList = undefined
    this.foldedList = []
  }
}

/** `MsgBody[0].MsgContent.Text` */
export function fieldPath(f: TextField): string {
  return `MsgBody[${f.elem}].MsgContent.${f.key}`
}
