import type {
  MsgElement,
  OpaqueMsgElement,
  TIMCustomElem,
  TIMFaceElem,
  TIMFileElem,
  TIMImageElem,
  TIMLocationElem,
  TIMRelayElem,
  TIMSoundElem,
  TIMTextElem,
  TIMVideoFileElem,
} from './generated/events.js'

/** Each known `MsgType` and its element type. */
export interface ElementTypeMap {
  TIMTextElem: TIMTextElem
  TIMLocationElem: TIMLocationElem
  TIMFaceElem: TIMFaceElem
  TIMCustomElem: TIMCustomElem
  TIMSoundElem: TIMSoundElem
  TIMImageElem: TIMImageElem
  TIMFileElem: TIMFileElem
  TIMVideoFileElem: TIMVideoFileElem
  TIMRelayElem: TIMRelayElem
}

/**
 * Narrows an element to a known type. (`el.MsgType === 'TIMTextElem'` alone cannot narrow,
 * because an element of an unknown MsgType may carry any string.)
 * @example for (const el of e.MsgBody) if (isElement(el, 'TIMTextElem')) console.log(el.MsgContent.Text)
 */
export function isElement<T extends keyof ElementTypeMap>(el: MsgElement | OpaqueMsgElement, type: T): el is ElementTypeMap[T] {
  return el.MsgType === type && typeof el.MsgContent === 'object' && el.MsgContent !== null
}

/**
 * The text of a message: its `TIMTextElem` texts joined with a newline.
 * @example textOf(e.MsgBody).includes('buy now')
 */
export function textOf(body: ReadonlyArray<MsgElement> | undefined): string {
  if (body === undefined) return ''
  let text = ''
  for (const el of body) {
    if (isElement(el, 'TIMTextElem') && typeof el.MsgContent.Text === 'string')
      text = text === '' ? el.MsgContent.Text : `${text}\n${el.MsgContent.Text}`
  }
  return text
}
