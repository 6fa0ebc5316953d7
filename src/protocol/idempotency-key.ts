import { createHash } from 'node:crypto'

type Body = Record<string, unknown>

const s = (v: unknown) => (v === undefined || v === null ? '' : String(v))

/** `(GroupId, TopicId, MsgSeq)`: how a group message is identified (product.md "Idempotency keys"). */
export function groupMessageKey(groupId: string, topicId: string | undefined, msgSeq: number): string {
  return `g|${groupId}|${topicId ?? ''}|${msgSeq}`
}

/** `MsgKey`: how a one-to-one message is identified. */
export function c2cMessageKey(msgKey: string): string {
  return `c|${msgKey}`
}

/**
 * The key under which a callback is recorded once, however often it is delivered.
 * Message events use the message keys; recalls use the command plus the recalled keys;
 * before-send events use the send's identity (sender + Random / MsgKey); any other command
 * uses a digest of its raw body.
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
      return `${command}|${s(body.GroupId)}|${topic(body) ?? ''}|${s(body.From_Account)}|${s(body.Random)}|${s(body.MsgId)}`
    case 'C2C.CallbackAfterSendMsg':
    case 'C2C.CallbackBeforeSendMsg':
    case 'C2C.CallbackAfterMsgWithDraw':
      if (typeof body.MsgKey === 'string' && body.MsgKey !== '') return `${command}|${c2cMessageKey(body.MsgKey)}`
      break
  }
  return `${command}|sha256:${createHash('sha256').update(rawBody).digest('hex')}`
}

function topic(body: Body): string | undefined {
  return typeof body.TopicId === 'string' && body.TopicId !== '' ? body.TopicId : undefined
}
