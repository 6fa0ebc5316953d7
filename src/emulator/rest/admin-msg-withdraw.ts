import type { EmulatorContext } from '../emulator-context.js'
import { requiredString } from './fields.js'
import { assertAccount, restSendContext, type RestCall } from './rest-call.js'
import { ok, RestError } from './rest-error.js'

const NO_TO = 90003
const NO_FROM = 90008
const BAD_KEY = 90054
const NOT_FOUND = 20022
const ALREADY = 20023

/**
 * `v4/openim/admin_msgwithdraw` : `From_Account`, `To_Account`, `MsgKey`.
 * 90008 / 90003 when an account is missing (or, with `accounts` set, not imported);
 * 20022 when no such message exists between those two accounts, 20023 when it was already withdrawn;
 * otherwise the message is marked withdrawn (and no longer unread) and `C2C.CallbackAfterMsgWithDraw`
 * fires with the recipient's remaining `UnreadMsgNum`.
 * @example {"From_Account":"jared","To_Account":"Jonh","MsgKey":"48374_2837546_1557481126"}
 */
export function adminMsgWithdraw(ctx: EmulatorContext, call: RestCall): Record<string, unknown> {
  const { body } = call
  const from = requiredString(body, 'From_Account', NO_FROM)
  const to = requiredString(body, 'To_Account', NO_TO)
  // With `accounts` set (strict mode), unknown accounts are refused as sendmsg refuses them.
  assertAccount(ctx, from, 'From_Account', NO_FROM)
  assertAccount(ctx, to, 'To_Account', NO_TO)
  const msgKey = requiredString(body, 'MsgKey', BAD_KEY)
  const message = ctx.c2c.get(from, to, msgKey)
  if (message === undefined) {
    throw new RestError(NOT_FOUND, `no message ${msgKey} from ${from} to ${to}`)
  }
  if (message.Withdraw !== undefined) throw new RestError(ALREADY, `message ${msgKey} was already withdrawn`)
  const now = ctx.options.now()
  ctx.c2c.withdraw(message, now)
  ctx.notify(
    'C2C.CallbackAfterMsgWithDraw',
    // Older pages and both SDKs have UnreadMsgNum, the newest page EventTime: both are sent (Tencent's pages differ).
    {
      CallbackCommand: 'C2C.CallbackAfterMsgWithDraw',
      From_Account: from,
      To_Account: to,
      MsgKey: msgKey,
      UnreadMsgNum: ctx.c2c.unreadOf(to),
      EventTime: now,
    },
    restSendContext(call),
  )
  return ok()
}
