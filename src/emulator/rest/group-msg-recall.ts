import type { EmulatorContext } from '../emulator-context.js'
import { optionalString, requiredString } from './fields.js'
import { restSendContext, type RestCall } from './rest-call.js'
import { ok, RestError } from './rest-error.js'

const BAD = 10004
const NO_GROUP = 10010
const NOT_FOUND = 10030
const TOO_OLD = 10031
const MAX_PER_CALL = 10
/** AVChatRoom messages can be recalled for an hour (newest CN recall page). */
const AVCHATROOM_RECALL_MS = 3600_000

/**
 * `v4/group_open_http_svc/group_msg_recall` : `GroupId`, `MsgSeqList` (1–10
 * `{ MsgSeq }`), optional `TopicId` and `Reason`. Answers a `RecallRetList` with one `RetCode` per
 * message — 0, or 10030 when the message does not exist (or was already recalled) — and fires one
 * `Group.CallbackAfterRecallMsg` listing the messages actually recalled.
 * @example {"GroupId":"@TGS#2J4SZEAEL","MsgSeqList":[{"MsgSeq":1}]} → {…,"RecallRetList":[{"MsgSeq":1,"RetCode":0}]}
 */
export function groupMsgRecall(ctx: EmulatorContext, call: RestCall): Record<string, unknown> {
  const { body, identifier } = call
  const groupId = requiredString(body, 'GroupId', BAD)
  const list = body.MsgSeqList
  if (list === undefined) throw new RestError(BAD, 'MsgSeqList is required')
  if (!Array.isArray(list) || list.length === 0) throw new RestError(BAD, 'MsgSeqList must be a non-empty array of { "MsgSeq": number }')
  if (list.length > MAX_PER_CALL) throw new RestError(BAD, `MsgSeqList has ${list.length} items; at most ${MAX_PER_CALL} per call`)
  const seqs = list.map((item: unknown, i) => {
    const seq = item !== null && typeof item === 'object' ? (item as Record<string, unknown>).MsgSeq : undefined
    if (typeof seq !== 'number' || !Number.isInteger(seq) || seq < 0 || seq > 0xffff_ffff) {
      throw new RestError(BAD, `MsgSeqList[${i}].MsgSeq must be an integer 0–4294967295`)
    }
    return seq
  })
  const topicId = optionalString(body, 'TopicId', BAD, true)
  const reason = optionalString(body, 'Reason', BAD)
  const group = ctx.groups.get(groupId)
  if (group === undefined) throw new RestError(NO_GROUP, `group ${groupId} does not exist`)
  if (topicId !== undefined && !group.SupportTopic) throw new RestError(BAD, `group ${groupId} has no topics; omit TopicId`)
  const conversation = ctx.groups.conversation(group, topicId)
  if (conversation === undefined) throw new RestError(NO_GROUP, `topic ${topicId} does not exist in group ${groupId}`)

  const now = ctx.options.now()
  const recalled: Array<{ MsgSeq: number; MsgId: string }> = []
  const RecallRetList = seqs.map((MsgSeq) => {
    const message = conversation.messages.get(MsgSeq)
    if (message === undefined || message.Recall !== undefined) return { MsgSeq, RetCode: NOT_FOUND }
    if (group.Type === 'AVChatRoom' && now - message.MsgTime * 1000 > AVCHATROOM_RECALL_MS) return { MsgSeq, RetCode: TOO_OLD }
    message.Recall = { Operator_Account: identifier, RecallTime: now, ...(reason !== undefined && { Reason: reason }) }
    recalled.push({ MsgSeq, MsgId: message.MsgId })
    return { MsgSeq, RetCode: 0 }
  })
  if (recalled.length > 0) {
    const event: Record<string, unknown> = {
      CallbackCommand: 'Group.CallbackAfterRecallMsg',
      Operator_Account: identifier,
      Type: group.Type,
      GroupId: groupId,
      MsgSeqList: recalled,
    }
    if (topicId !== undefined) event.TopicId = topicId
    event.EventTime = now
    ctx.notify('Group.CallbackAfterRecallMsg', event, restSendContext(call))
  }
  return ok({ RecallRetList })
}
