/**
 * Compile-only type test (checked by `npm run typecheck`, never run): what must and must not
 * type-check for users of the receiver. Each @ts-expect-error fails the build if the line compiles.
 */
import { createReceiver, isElement, verdict, type GroupBeforeSendMsgEvent } from '../../src/index.js'

const receiver = createReceiver({ sdkAppId: 1400000000 })

// Before-events are typed and must return a verdict.
receiver.on('Group.CallbackBeforeSendMsg', (e) => {
  const group: string = e.GroupId
  const seq: number | undefined = e.Random
  void group
  void seq
  return verdict.allow()
})
receiver.on('C2C.CallbackBeforeSendMsg', async (e) => (e.MsgKey ? verdict.deny({ code: 120001 }) : verdict.drop()))

// @ts-expect-error — a decider must return a verdict
receiver.on('Group.CallbackBeforeCreateGroup', () => 'ok')

// After-events get their own typed event; return values are ignored.
receiver.on('Group.CallbackAfterRecallMsg', (e) => {
  const seqs: number[] = e.MsgSeqList.map((m) => m.MsgSeq)
  void seqs
})
receiver.on('C2C.CallbackAfterMsgWithDraw', async (e) => {
  const key: string = e.MsgKey
  void key
})

// @ts-expect-error — a typo in a command name does not compile
receiver.on('Group.CallbackAfterRecallMessage', () => {})

// @ts-expect-error — the recall event has no MsgBody
receiver.on('Group.CallbackAfterRecallMsg', (e) => e.MsgBody.length)

// One handler for several after-events sees the union of their events.
receiver.on(['Group.CallbackAfterRecallMsg', 'C2C.CallbackAfterMsgWithDraw'], (e) => {
  const command: 'Group.CallbackAfterRecallMsg' | 'C2C.CallbackAfterMsgWithDraw' = e.CallbackCommand
  void command
})

// @ts-expect-error — before- and after-events cannot share one handler
receiver.on(['Group.CallbackBeforeSendMsg', 'Group.CallbackAfterSendMsg'], () => verdict.allow())

// Elements narrow through isElement.
function firstText(e: GroupBeforeSendMsgEvent): string | undefined {
  const el = e.MsgBody[0]
  if (el !== undefined && isElement(el, 'TIMTextElem')) return el.MsgContent.Text
  return undefined
}
void firstText

// @ts-expect-error — verdict.allow takes a rewrite, not a code
verdict.allow({ code: 1 })
