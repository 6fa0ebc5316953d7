import { createHash } from 'node:crypto'

type Body = Record<string, unknown>

const s = (v: unknown) => (v === undefined || v === null ? '' : String(v))

/** `(GroupId, TopicId, MsgSeq)`: how a group message is identified. */
export function groupMessageKey(groupId: string, topicId: string | undefined, msgSeq: number): string {
  return `g|${groupId}|${topicId ?? ''}|${msgSeq}`
}

/** `MsgKey`: how a one-to-one message is identified. */
export function c2cMessageKey(msgKey: string): string {
  return `c|${msgKey}`
}

/**
 * Links the sends of one group message: its before-send (which has no `MsgSeq` yet) and its
 * after-send carry the same sender and `Random`. `gs|GroupId|TopicId|From_Account|Random`, or
 * undefined without a group id or an integer `Random` (then no key could tell two messages apart).
 * @example groupSendKey({ GroupId: 'g1', From_Account: 'a', Random: 7 }) // 'gs|g1||a|7'
 */
export function groupSendKey(body: Body): string | undefined {
  const groupId = body.GroupId
  const random = typeof body.Random === 'string' && /^\d{1,15}$/.test(body.Random) ? Number(body.Random) : body.Random
  if (typeof groupId !== 'string' || typeof random !== 'number' || !Number.isSafeInteger(random)) return undefined
  return `gs|${groupId}|${topic(body) ?? ''}|${s(body.From_Account)}|${random}`
}

/**
 * The identity of a message about to be sent, from a before-send event (and the same from its
 * after-send): group `groupSendKey` plus `|MsgId` when the event has one (newer callbacks: the
 * client's message id, which tells apart two sends that reuse a `Random`), one-to-one `c|MsgKey`.
 * Undefined when the event carries none (a group event without `Random`, a C2C event without
 * `MsgKey`), so that callers never mistake two messages for one.
 * @example beforeSendMessageKey('Group.CallbackBeforeSendMsg', { GroupId: 'g1', From_Account: 'a', Random: 7 }) // 'gs|g1||a|7'
 */
export function beforeSendMessageKey(command: string, body: Body): string | undefined {
  if (command === 'Group.CallbackBeforeSendMsg' || command === 'Group.CallbackAfterSendMsg') {
    const key = groupSendKey(body)
    return key !== undefined && typeof body.MsgId === 'string' && body.MsgId !== '' ? `${key}|${body.MsgId}` : key
  }
  if (command === 'C2C.CallbackBeforeSendMsg' || command === 'C2C.CallbackAfterSendMsg') {
    return typeof body.MsgKey === 'string' && body.MsgKey !== '' ? c2cMessageKey(body.MsgKey) : undefined
  }
  return undefined
}

/** The idempotency key of the before-send of a message whose `beforeSendMessageKey` is `messageKey`: where its decision is recorded. */
export function beforeSendEventKey(family: 'group' | 'c2c', messageKey: string): string {
  return `${family === 'group' ? 'Group' : 'C2C'}.CallbackBeforeSendMsg|${messageKey}`
}

/**
 * The key under which a callback is recorded once, however often it is delivered.
 * Message events use the message keys; recalls use the command plus the recalled keys;
 * before-send events use the send's identity (`beforeSendMessageKey`: sender + Random / MsgKey),
 * so that a message's after-send finds its decision; any other command (or an event without the
 * fields its key needs) uses a digest of its raw body.
 * @example idempotencyKey('Group.CallbackAfterSendMsg', { GroupId: 'g1', MsgSeq: 7 }, raw) // 'Group.CallbackAfterSendMsg|g|g1||7'
 */
export function idempotencyKey(command: string, body: Body, rawBody: Uint8Array | string): string {
  switch (command) {
    case 'Group.CallbackAfterSendMsg':
    case 'Group.CallbackAfterModifyMsg':
      if (body.GroupId !== undefined && body.MsgSeq !== undefined) {
        return `${command}|${groupMessageKey(s(body.GroupId), topic(body), Number(body.MsgSeq))}${command.includes('Modify') ? '|' + s(body.EventTime) : ''}`
      }
      break
    case 'Group.CallbackAfterRecallMsg':
      if (Array.isArray(body.MsgSeqList)) {
        const seqs = body.MsgSeqList.map((m) => s((m as Body | null)?.MsgSeq)).join(',')
        return `${command}|g|${s(body.GroupId)}|${topic(body) ?? ''}|${seqs}`
      }
      break
    case 'Group.CallbackBeforeSendMsg':
    case 'C2C.CallbackBeforeSendMsg': {
      const key = beforeSendMessageKey(command, body)
      if (key !== undefined) return `${command}|${key}`
      break
    }
    case 'C2C.CallbackAfterSendMsg':
    case 'C2C.CallbackAfterMsgWithDraw':
      if (typeof body.MsgKey === 'string' && body.MsgKey !== '') return `${command}|${c2cMessageKey(body.MsgKey)}`
      break
  }
  return `${command}|sha256:${createHash('sha256').update(rawBody).digest('hex')}`
}

function topic(body: Body): string | undefined {
  return typeof body.TopicId === 'string' && body.TopicId !== '' ? body.TopicId : undefined
}
