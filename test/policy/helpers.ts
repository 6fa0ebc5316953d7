/** Events and shorthands for the policy tests. */
import type { MsgElement } from '../../src/protocol/generated/events.js'

export const text = (t: string): MsgElement[] => [{ MsgType: 'TIMTextElem', MsgContent: { Text: t } }]

export function groupEvent(body: string | MsgElement[], extra: Record<string, unknown> = {}) {
  return {
    CallbackCommand: 'Group.CallbackBeforeSendMsg',
    GroupId: '@TGS#2J4SZEAEL',
    Type: 'Public',
    From_Account: 'alice',
    MsgBody: typeof body === 'string' ? text(body) : body,
    ...extra,
  }
}

export function c2cEvent(body: string | MsgElement[], extra: Record<string, unknown> = {}) {
  return {
    CallbackCommand: 'C2C.CallbackBeforeSendMsg',
    From_Account: 'alice',
    To_Account: 'bob',
    MsgBody: typeof body === 'string' ? text(body) : body,
    ...extra,
  }
}
