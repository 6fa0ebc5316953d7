import { applyBeforeSendAnswer, type DeliveryDecision } from '../../sender/before-send-answer.js'
import type { EmulatorContext, SendAnswer } from '../emulator-context.js'
import { c2cMsgKey, newMsgId, randomUint32 } from '../state/ids.js'
import {
  forbidCallbackControl,
  messageBytes,
  optionalString,
  optionalStringList,
  optionalUint32,
  requiredMsgBody,
  requiredString,
  requiredUint32,
} from './fields.js'
import { assertAccount, restSendContext, type RestCall } from './rest-call.js'
import { ok, RestError } from './rest-error.js'
import { sendOnce } from './send-once.js'

const BAD_BODY = 90002 // MsgBody does not match the message format
const NO_TO = 90003 // To_Account missing or not existing
const NO_RANDOM = 90005 // MsgRandom missing or not an integer
const NO_FROM = 90008 // From_Account missing or not existing
const BAD_LIFETIME = 90026 // MsgLifeTime out of range
const MAX_LIFETIME = 604_800

/**
 * `v4/openim/sendmsg` : fires `C2C.CallbackBeforeSendMsg`, applies its verdict,
 * stores the message under `MsgKey = MsgSeq_MsgRandom_MsgTime`, counts it unread for `To_Account`
 * (unless `SendMsgControl` has `NoUnread`), then fires `C2C.CallbackAfterSendMsg` with `UnreadMsgNum`.
 * Answers `MsgTime` and `MsgKey`. A resend (same sender, MsgSeq, MsgRandom and content) within 120 s is
 * answered with the first one's key and not delivered again — also while the first still waits for its
 * before-callback (see `sendOnce` for which sends stay remembered).
 * @example {"From_Account":"jared","To_Account":"Jonh","MsgRandom":2837546,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"hi"}}]}
 */
export async function sendC2CMsg(ctx: EmulatorContext, call: RestCall): Promise<Record<string, unknown>> {
  const { body, identifier } = call
  const to = requiredString(body, 'To_Account', NO_TO)
  assertAccount(ctx, to, 'To_Account', NO_TO)
  const from = optionalString(body, 'From_Account', NO_FROM, true) ?? identifier
  assertAccount(ctx, from, 'From_Account', NO_FROM)
  const msgRandom = requiredUint32(body, 'MsgRandom', NO_RANDOM)
  const msgBody = requiredMsgBody(body, BAD_BODY)
  const cloudCustomData = optionalString(body, 'CloudCustomData', BAD_BODY)
  // MsgSeq is the sender's choice; a random one when omitted (sendmsg page).
  const msgSeq = optionalUint32(body, 'MsgSeq', BAD_BODY) ?? randomUint32()
  const lifeTime = body.MsgLifeTime
  if (lifeTime !== undefined && !(Number.isInteger(lifeTime) && (lifeTime as number) >= 0 && (lifeTime as number) <= MAX_LIFETIME)) {
    throw new RestError(BAD_LIFETIME, `MsgLifeTime must be an integer 0–${MAX_LIFETIME} seconds`)
  }
  // MsgLifeTime 0 is how sendmsg sends an online-only message.
  const onlineOnlyFlag = lifeTime === 0 ? 1 : 0
  const noUnread = optionalStringList(body, 'SendMsgControl', BAD_BODY).includes('NoUnread')
  const forbid = forbidCallbackControl(body, BAD_BODY)
  const size = messageBytes(msgBody, cloudCustomData)
  if (size > ctx.options.maxMsgBytes)
    throw new RestError(BAD_BODY, `the message is ${size} bytes; at most ${ctx.options.maxMsgBytes} are accepted`)

  // IM's key is sender + MsgSeq + MsgRandom + CRC32(content); the content itself serves as well here.
  const dedupKey = `${from}\u0000${msgSeq}\u0000${msgRandom}\u0000${JSON.stringify(msgBody)}`
  const deliver = async (): Promise<SendAnswer<{ MsgTime: number; MsgKey: string }>> => {
    const now = ctx.options.now()
    const msgTime = Math.floor(now / 1000)
    const msgKey = c2cMsgKey(msgSeq, msgRandom, msgTime)
    const msgId = newMsgId(from, msgTime, msgRandom)
    const sendContext = restSendContext(call)
    const common = () => ({
      From_Account: from,
      To_Account: to,
      MsgSeq: msgSeq,
      MsgRandom: msgRandom,
      MsgTime: msgTime,
      MsgKey: msgKey,
      MsgId: msgId,
      OnlineOnlyFlag: onlineOnlyFlag,
    })

    let decision: DeliveryDecision = { kind: 'deliver' }
    if (!forbid.before) {
      const before: Record<string, unknown> = { CallbackCommand: 'C2C.CallbackBeforeSendMsg', ...common(), MsgBody: msgBody }
      if (cloudCustomData !== undefined) before.CloudCustomData = cloudCustomData
      before.EventTime = now
      const outcome = await ctx.callback('C2C.CallbackBeforeSendMsg', before, sendContext)
      if (outcome !== undefined) decision = applyBeforeSendAnswer('c2c', outcome, ctx.options.failClosed)
    }
    if (decision.kind === 'deny') throw new RestError(decision.code, decision.info)
    if (decision.kind === 'drop') return { answer: { MsgTime: msgTime, MsgKey: msgKey }, stored: false }

    const finalBody = decision.msgBody ?? msgBody
    const finalCloud = decision.cloudCustomData ?? cloudCustomData
    ctx.c2c.add({
      ...common(),
      MsgBody: finalBody,
      ...(finalCloud !== undefined && { CloudCustomData: finalCloud }),
      CountsUnread: !noUnread,
    })

    if (!forbid.after) {
      const after: Record<string, unknown> = { CallbackCommand: 'C2C.CallbackAfterSendMsg', ...common(), MsgBody: finalBody }
      if (finalCloud !== undefined) after.CloudCustomData = finalCloud
      Object.assign(after, {
        SendMsgResult: 0,
        ErrorInfo: 'send msg succeed',
        UnreadMsgNum: ctx.c2c.unreadOf(to),
        EventTime: ctx.options.now(),
      })
      ctx.notify('C2C.CallbackAfterSendMsg', after, sendContext)
    }
    return { answer: { MsgTime: msgTime, MsgKey: msgKey }, stored: true }
  }
  return ok(await sendOnce(ctx.c2cDedup, dedupKey, deliver))
}
