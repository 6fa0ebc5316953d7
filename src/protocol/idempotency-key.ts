/**
 * The keys a callback is recorded under: pure functions of its command and body, built once per
 * record and the same for every store.
 *
 * A key is a list of parts joined with `|`. Every text part is escaped (`keyPart`), so no part can
 * contain a bare `|` and the list is recovered from the key unambiguously: two different identities
 * never share a key. The escape also removes what a database driver would rewrite on the way to
 * UTF-8 text (U+0000, lone surrogates), so the key stays injective once stored. Ordinary ids
 * contain none of these characters and their keys read as before: `g|@TGS#1||7`.
 *
 * Identity parts, and what counts as equal:
 * - text ids (`GroupId`, `From_Account`, `MsgKey`…): a string, or a finite number taken as its
 *   decimal text (`5` and `"5"` are one id);
 * - numeric ids (`MsgSeq`, `Random`, `EventTime`): a safe integer, or a string of 1–15 decimal
 *   digits taken as its value (`"007"` is 7);
 * - `TopicId`: a non-empty text id; absent, null or `""` mean "no topic";
 * - anything else (an object, a boolean, `1.5` as a `MsgSeq`, a number too large to be exact) is no
 *   identity: the event is keyed by a digest of its raw body instead, never by a guess.
 */
import { createHash } from 'node:crypto'

type Body = Record<string, unknown>

// What `keyPart` must rewrite: the separator, the escape character, U+0000 and any surrogate
// (a well-formed pair is kept as is; the slow path tells pairs from lone ones).
// eslint-disable-next-line no-control-regex -- U+0000 is one of them
const SPECIAL = /[|\\\u0000\uD800-\uDFFF]/

/**
 * One part of a key, escaped: `\` → `\\`, `|` → `\|`, U+0000 → `\0`, a lone surrogate → `\uXXXX`
 * (lower-case hex). Injective, and its output is well-formed UTF-16 without U+0000.
 * @example keyPart('a|b') // 'a\\|b'
 */
export function keyPart(s: string): string {
  if (!SPECIAL.test(s)) return s
  let out = ''
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c === 0x7c) out += '\\|'
    else if (c === 0x5c) out += '\\\\'
    else if (c === 0) out += '\\0'
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      out += s[i]! + s[i + 1]!
      i++
    } else if (c >= 0xd800 && c <= 0xdfff) out += `\\u${c.toString(16)}`
    else out += s[i]!
  }
  return out
}

/** A text id as its key part, or undefined when the value is no text id. */
export function idText(v: unknown): string | undefined {
  return typeof v === 'string' ? v : typeof v === 'number' && Number.isFinite(v) ? String(v) : undefined
}

/** A numeric id, or undefined when the value is not an exact integer. */
export function idInt(v: unknown): number | undefined {
  const n = typeof v === 'string' && v.length <= 15 && /^\d+$/.test(v) ? Number(v) : v
  return typeof n === 'number' && Number.isSafeInteger(n) ? n : undefined
}

/** A group's id and topic as text, and escaped for keys: escaped once per callback, used by each key that holds them. */
interface GroupParts {
  groupId: string
  topicId: string
  /** `keyPart(groupId)|keyPart(topicId)`. */
  escaped: string
}

function groupParts(body: Body): GroupParts | undefined {
  const groupId = idText(body.GroupId)
  const t = body.TopicId
  // TopicId: absent, null and '' are "no topic".
  const topicId = t === undefined || t === null ? '' : idText(t)
  if (groupId === undefined || topicId === undefined) return undefined
  return { groupId, topicId, escaped: `${keyPart(groupId)}|${keyPart(topicId)}` }
}

/** The identity of a group message: `(GroupId, TopicId, MsgSeq)`, `topicId` '' outside topics. */
export interface GroupMessageId {
  groupId: string
  topicId: string
  msgSeq: number
}

/** A group message's identity from an after-send (or modify, recall item) body; undefined when a part is missing or malformed. */
export function groupMessageId(body: Body, msgSeq: unknown = body.MsgSeq): GroupMessageId | undefined {
  const group = groupParts(body)
  const seq = idInt(msgSeq)
  return group === undefined || seq === undefined ? undefined : { groupId: group.groupId, topicId: group.topicId, msgSeq: seq }
}

/** `g|GroupId|TopicId|MsgSeq`: how a group message is identified. */
export function groupMessageKey(groupId: string, topicId: string | undefined, msgSeq: number): string {
  return `g|${keyPart(groupId)}|${keyPart(topicId ?? '')}|${msgSeq}`
}

/** `c|MsgKey`: how a one-to-one message is identified. */
export function c2cMessageKey(msgKey: string): string {
  return `c|${keyPart(msgKey)}`
}

/** A one-to-one message's `MsgKey`: a non-empty text id, or undefined. */
export function c2cMsgKey(body: Body): string | undefined {
  const msgKey = idText(body.MsgKey)
  return msgKey === '' ? undefined : msgKey
}

function sendKeyOf(group: GroupParts | undefined, body: Body): string | undefined {
  if (group === undefined) return undefined
  const from = body.From_Account === undefined || body.From_Account === null ? '' : idText(body.From_Account)
  const random = idInt(body.Random)
  return from === undefined || random === undefined ? undefined : `gs|${group.escaped}|${keyPart(from)}|${random}`
}

/**
 * Links the sends of one group message: its before-send (which has no `MsgSeq` yet) and its
 * after-send carry the same sender and `Random`. `gs|GroupId|TopicId|From_Account|Random`, or
 * undefined without a group id or an integer `Random` (then no key could tell two messages apart),
 * or when a part is malformed. An absent `From_Account` is the part ''.
 * @example groupSendKey({ GroupId: 'g1', From_Account: 'a', Random: 7 }) // 'gs|g1||a|7'
 */
export function groupSendKey(body: Body): string | undefined {
  return sendKeyOf(groupParts(body), body)
}

/** A group send key with `|MsgId` when there is one ('' and null are none; a malformed one makes no key). */
export function withMsgId(sendKey: string | undefined, msgId: unknown): string | undefined {
  if (sendKey === undefined || msgId === undefined || msgId === null || msgId === '') return sendKey
  const id = idText(msgId)
  return id === undefined ? undefined : `${sendKey}|${keyPart(id)}`
}

/**
 * The identity of a message about to be sent, from a before-send event (and the same from its
 * after-send): group `groupSendKey` plus `|MsgId` when the event has one (newer callbacks: the
 * client's message id, which tells apart two sends that reuse a `Random`), one-to-one `c|MsgKey`.
 * Undefined when the event carries none (a group event without `Random`, a C2C event without
 * `MsgKey`, a malformed `MsgId`), so that callers never mistake two messages for one.
 * @example beforeSendMessageKey('Group.CallbackBeforeSendMsg', { GroupId: 'g1', From_Account: 'a', Random: 7 }) // 'gs|g1||a|7'
 */
export function beforeSendMessageKey(command: string, body: Body): string | undefined {
  if (command === 'Group.CallbackBeforeSendMsg' || command === 'Group.CallbackAfterSendMsg') {
    return withMsgId(groupSendKey(body), body.MsgId)
  }
  if (command === 'C2C.CallbackBeforeSendMsg' || command === 'C2C.CallbackAfterSendMsg') {
    const msgKey = c2cMsgKey(body)
    return msgKey === undefined ? undefined : c2cMessageKey(msgKey)
  }
  return undefined
}

/** The idempotency key of the before-send of a message whose `beforeSendMessageKey` is `messageKey`: where its decision is recorded. */
export function beforeSendEventKey(family: 'group' | 'c2c', messageKey: string): string {
  return `${family === 'group' ? 'Group' : 'C2C'}.CallbackBeforeSendMsg|${messageKey}`
}

/** Every key of one callback, built once: what the store records it under and links it by. */
export interface CallbackKeys {
  /** The idempotency key (`idempotencyKey`). */
  event: string
  /** Group after-send: the message's identity. */
  group?: GroupMessageId
  /** After-sends and the C2C withdraw: the message key (`g|…`, `c|…`). */
  message?: string
  /** Sends: the send key without `MsgId` (`groupSendKey`, or `c|MsgKey`). */
  send?: string
  /** Sends: the send's identity with `MsgId` (`beforeSendMessageKey`). */
  sendWithMsgId?: string
  /** One-to-one messages: `MsgKey`. */
  msgKey?: string
  /** Group recalls: the key of each recalled message (`g|…`), in `MsgSeqList` order. */
  recalled?: string[]
}

/**
 * The key under which a callback is recorded once, however often it is delivered.
 * Message events use the message keys; recalls use the command plus the recalled keys;
 * before-send events use the send's identity (`beforeSendMessageKey`: sender + Random / MsgKey),
 * so that a message's after-send finds its decision; any other command (or an event without the
 * fields its key needs, or with a malformed one) uses a digest of its raw body.
 * @example idempotencyKey('Group.CallbackAfterSendMsg', { GroupId: 'g1', MsgSeq: 7 }, raw) // 'Group.CallbackAfterSendMsg|g|g1||7'
 */
export function idempotencyKey(command: string, body: Body, rawBody: Uint8Array | string): string {
  return callbackKeys(command, body, rawBody).event
}

/** The idempotency key and, for the message commands, the message and send keys of a callback. */
export function callbackKeys(command: string, body: Body, rawBody: Uint8Array | string): CallbackKeys {
  switch (command) {
    case 'Group.CallbackAfterSendMsg': {
      const group = groupParts(body)
      const msgSeq = idInt(body.MsgSeq)
      const send = sendKeyOf(group, body)
      const sendWithMsgId = withMsgId(send, body.MsgId)
      if (group === undefined || msgSeq === undefined) return { event: digestKey(command, rawBody), send, sendWithMsgId }
      const message = `g|${group.escaped}|${msgSeq}`
      return {
        event: `${command}|${message}`,
        group: { groupId: group.groupId, topicId: group.topicId, msgSeq },
        message,
        send,
        sendWithMsgId,
      }
    }
    case 'Group.CallbackAfterModifyMsg': {
      const group = groupParts(body)
      const msgSeq = idInt(body.MsgSeq)
      // A message is modified more than once: each edit is its own event (EventTime; '' when absent).
      const time = body.EventTime === undefined || body.EventTime === null ? '' : idInt(body.EventTime)
      if (group === undefined || msgSeq === undefined || time === undefined) break
      return { event: `${command}|g|${group.escaped}|${msgSeq}|${time}` }
    }
    case 'Group.CallbackAfterRecallMsg': {
      const list = body.MsgSeqList
      const group = groupParts(body)
      if (!Array.isArray(list) || group === undefined) break
      // The key of each recalled message (an item without an integer MsgSeq names none), and the
      // event's key from all of them (a digest when one is malformed).
      const recalled: string[] = []
      let seqs = ''
      let whole = true
      for (let i = 0; i < list.length; i++) {
        const item = list[i] as Body | null
        const seq = typeof item === 'object' && item !== null ? idInt(item.MsgSeq) : undefined
        if (seq === undefined) {
          whole = false
          continue
        }
        recalled.push(`g|${group.escaped}|${seq}`)
        seqs += i === 0 ? String(seq) : `,${seq}`
      }
      return { event: whole ? `${command}|g|${group.escaped}|${seqs}` : digestKey(command, rawBody), recalled }
    }
    case 'Group.CallbackBeforeSendMsg': {
      const send = groupSendKey(body)
      const sendWithMsgId = withMsgId(send, body.MsgId)
      return { event: sendWithMsgId === undefined ? digestKey(command, rawBody) : `${command}|${sendWithMsgId}`, send, sendWithMsgId }
    }
    case 'C2C.CallbackBeforeSendMsg':
    case 'C2C.CallbackAfterSendMsg':
    case 'C2C.CallbackAfterMsgWithDraw': {
      const msgKey = c2cMsgKey(body)
      if (msgKey === undefined) break
      const message = c2cMessageKey(msgKey)
      return { event: `${command}|${message}`, message, send: message, sendWithMsgId: message, msgKey }
    }
  }
  return { event: digestKey(command, rawBody) }
}

function digestKey(command: string, rawBody: Uint8Array | string): string {
  return `${keyPart(command)}|sha256:${createHash('sha256').update(rawBody).digest('hex')}`
}
