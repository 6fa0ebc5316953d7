import type { GroupAtItem, MsgElement } from '../../protocol/generated/events.js'
import { applyBeforeSendAnswer, type DeliveryDecision } from '../../sender/before-send-answer.js'
import type { EmulatorContext, SendAnswer } from '../emulator-context.js'
import type { Conversation, Group } from '../state/groups.js'
import { newMsgId } from '../state/ids.js'
import {
  forbidCallbackControl,
  messageBytes,
  optionalFlag,
  optionalString,
  requiredMsgBody,
  requiredString,
  requiredUint32,
} from './fields.js'
import { assertAccount, restSendContext, type RestCall } from './rest-call.js'
import { ok, RestError } from './rest-error.js'
import { sendOnce } from './send-once.js'

const BAD = 10004
const NO_GROUP = 10010
const TOO_LONG = 80002

/**
 * `v4/group_open_http_svc/send_group_msg` : fires `Group.CallbackBeforeSendMsg`,
 * applies its verdict, stores the message under the next `MsgSeq` of the group (or topic), then fires
 * `Group.CallbackAfterSendMsg` with the stored — possibly rewritten — body. Answers `MsgTime` and `MsgSeq`.
 * A second send with the same `Random` in the same group within the window is not delivered again:
 * it is answered with the first one's `MsgSeq` — also while the first still waits for its
 * before-callback (see `sendOnce` for which sends stay remembered).
 * @example {"GroupId":"@TGS#2J4SZEAEL","Random":8912345,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"hi"}}]}
 */
export async function sendGroupMsg(ctx: EmulatorContext, call: RestCall): Promise<Record<string, unknown>> {
  const send = readGroupSend(ctx, call)
  const dedupKey = `${send.groupId}\u0000${send.topicId ?? ''}\u0000${send.random}`
  return ok(await sendOnce(ctx.groupDedup, dedupKey, () => deliver(ctx, call, send)))
}

/** A group send as the REST call asked for it, checked, with the group it goes to. */
interface GroupSend {
  groupId: string
  topicId: string | undefined
  random: number
  from: string
  msgBody: MsgElement[]
  cloudCustomData: string | undefined
  onlineOnly: number
  forbid: { before: boolean; after: boolean }
  groupAtInfo: unknown
  group: Group
  conversation: Conversation
}

/** Checks the call's fields and the group (and topic) it addresses: a RestError names the first problem. */
function readGroupSend(ctx: EmulatorContext, call: RestCall): GroupSend {
  const { body, identifier } = call
  const groupId = requiredString(body, 'GroupId', BAD)
  const random = requiredUint32(body, 'Random', BAD)
  const msgBody = requiredMsgBody(body, BAD)
  const from = optionalString(body, 'From_Account', BAD, true) ?? identifier
  assertAccount(ctx, from, 'From_Account', BAD)
  const cloudCustomData = optionalString(body, 'CloudCustomData', BAD)
  const topicId = optionalString(body, 'TopicId', BAD, true)
  const onlineOnly = optionalFlag(body, 'OnlineOnlyFlag', BAD) ?? 0
  const forbid = forbidCallbackControl(body, BAD)
  const groupAtInfo = body.GroupAtInfo
  if (groupAtInfo !== undefined && !Array.isArray(groupAtInfo)) throw new RestError(BAD, 'GroupAtInfo must be an array')
  const size = messageBytes(msgBody, cloudCustomData)
  if (size > ctx.options.maxMsgBytes)
    throw new RestError(TOO_LONG, `the message is ${size} bytes; at most ${ctx.options.maxMsgBytes} are accepted`)

  const group = ctx.groups.get(groupId)
  if (group === undefined) throw new RestError(NO_GROUP, `group ${groupId} does not exist`)
  if (topicId !== undefined && !group.SupportTopic) throw new RestError(BAD, `group ${groupId} has no topics; omit TopicId`)
  const conversation = ctx.groups.conversation(group, topicId)
  if (conversation === undefined) throw new RestError(NO_GROUP, `topic ${topicId} does not exist in group ${groupId}`)
  return { groupId, topicId, random, from, msgBody, cloudCustomData, onlineOnly, forbid, groupAtInfo, group, conversation }
}

/** Before-callback → IM applies its answer → store under the next MsgSeq → after-callback. */
async function deliver(ctx: EmulatorContext, call: RestCall, send: GroupSend): Promise<SendAnswer<{ MsgTime: number; MsgSeq: number }>> {
  const { identifier } = call
  const { groupId, topicId, random, from, msgBody, cloudCustomData, forbid, groupAtInfo, group } = send
  const now = ctx.options.now()
  const msgTime = Math.floor(now / 1000)
  // AVChatRoom is online-only by nature, and the flag is reported as 0 there.
  const onlineOnlyFlag = group.Type === 'AVChatRoom' ? 0 : send.onlineOnly
  const msgId = newMsgId(from, msgTime, random)
  const sendContext = restSendContext(call)
  // The fields both callbacks open with, in Tencent's order.
  const head = { GroupId: groupId, Type: group.Type, From_Account: from, Operator_Account: identifier, Random: random }

  let decision: DeliveryDecision = { kind: 'deliver' }
  if (!forbid.before) {
    const before: Record<string, unknown> = {
      CallbackCommand: 'Group.CallbackBeforeSendMsg',
      ...head,
      MsgId: msgId,
      OnlineOnlyFlag: onlineOnlyFlag,
      MsgBody: msgBody,
    }
    if (cloudCustomData !== undefined) before.CloudCustomData = cloudCustomData
    if (topicId !== undefined) before.TopicId = topicId
    before.EventTime = now
    const outcome = await ctx.callback('Group.CallbackBeforeSendMsg', before, sendContext)
    if (outcome !== undefined) decision = applyBeforeSendAnswer('group', outcome, ctx.options.failClosed)
  }
  if (decision.kind === 'deny') throw new RestError(decision.code, decision.info)
  // A silent drop looks like success to the sender, but no message exists, so there is no MsgSeq to give.
  if (decision.kind === 'drop') return { answer: { MsgTime: msgTime, MsgSeq: 0 }, stored: false }

  const finalBody = decision.msgBody ?? msgBody
  const finalCloud = decision.cloudCustomData ?? cloudCustomData
  const stored = ctx.groups.append(send.conversation, {
    MsgTime: msgTime,
    Random: random,
    MsgId: msgId,
    From_Account: from,
    Operator_Account: identifier,
    OnlineOnlyFlag: onlineOnlyFlag,
    MsgBody: finalBody,
    ...(finalCloud !== undefined && { CloudCustomData: finalCloud }),
    ...(groupAtInfo !== undefined && { GroupAtInfo: groupAtInfo as GroupAtItem[] }),
  })

  if (!forbid.after) {
    const after: Record<string, unknown> = {
      CallbackCommand: 'Group.CallbackAfterSendMsg',
      ...head,
      MsgSeq: stored.MsgSeq,
      MsgTime: msgTime,
      MsgId: msgId,
      OnlineOnlyFlag: onlineOnlyFlag,
      MsgBody: finalBody,
    }
    if (finalCloud !== undefined) after.CloudCustomData = finalCloud
    if (topicId !== undefined) after.TopicId = topicId
    after.EventTime = ctx.options.now()
    if (groupAtInfo !== undefined) after.GroupAtInfo = groupAtInfo
    ctx.notify('Group.CallbackAfterSendMsg', after, sendContext)
  }
  return { answer: { MsgTime: msgTime, MsgSeq: stored.MsgSeq }, stored: true }
}
