/** Builders for callback requests used across tests. */
import { sign } from '../../src/protocol/signature.js'

export const APP = '1400000000'
export const TOKEN = 'test-token'

export function query(command: string, opts: { token?: string; time?: number; extra?: Record<string, string> } = {}): string {
  const p = new URLSearchParams({
    SdkAppid: APP,
    CallbackCommand: command,
    contenttype: 'json',
    ClientIP: '10.0.0.1',
    OptPlatform: 'RESTAPI',
  })
  if (opts.token !== undefined) {
    const t = opts.time ?? Math.floor(Date.now() / 1000)
    p.set('Sign', sign(opts.token, t))
    p.set('RequestTime', String(t))
  }
  for (const [k, v] of Object.entries(opts.extra ?? {})) p.set(k, v)
  return p.toString()
}

export const groupBeforeSend = (text = 'hello', extra: Record<string, unknown> = {}) => ({
  CallbackCommand: 'Group.CallbackBeforeSendMsg',
  GroupId: '@TGS#2J4SZEAEL',
  Type: 'Public',
  From_Account: 'jared',
  Operator_Account: 'admin',
  Random: 123456,
  OnlineOnlyFlag: 0,
  MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: text } }],
  CloudCustomData: 'your cloud custom data',
  EventTime: 1670574414123,
  ...extra,
})

export const c2cBeforeSend = (text = 'hello') => ({
  CallbackCommand: 'C2C.CallbackBeforeSendMsg',
  From_Account: 'jared',
  To_Account: 'Jonh',
  MsgSeq: 48374,
  MsgRandom: 2837546,
  MsgTime: 1557481126,
  MsgKey: '48374_2837546_1557481126',
  OnlineOnlyFlag: 0,
  MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: text } }],
  EventTime: 1670574414123,
})

export const groupRecall = () => ({
  CallbackCommand: 'Group.CallbackAfterRecallMsg',
  Operator_Account: 'admin',
  Type: 'Community',
  GroupId: '1213456',
  MsgSeqList: [{ MsgSeq: 130 }],
  TopicId: '@TGS#_@TGS#cQVLVHIM62CJ@TOPIC#_TestTopic',
  EventTime: '1670574414123',
})

export const c2cWithdraw = () => ({
  CallbackCommand: 'C2C.CallbackAfterMsgWithDraw',
  From_Account: 'jared',
  To_Account: 'Jonh',
  MsgKey: '48374_2837546_1557481126',
  UnreadMsgNum: 7,
})

/** The JSON answer of a receiver response. */
export function answerOf(res: { body: string }): { ActionStatus: string; ErrorCode: number; ErrorInfo: string; [k: string]: unknown } {
  return JSON.parse(res.body)
}
