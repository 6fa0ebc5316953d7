/**
 * Deeply nested callback bodies, built as text (building them as objects and calling
 * JSON.stringify would itself overflow the stack at the depths that matter).
 */

/** `{"Deep":[[[…]]]}` nested `depth` levels (the object is level 1), with the command's fields first. */
export function nestedText(depth: number, fields: Record<string, unknown> = {}): string {
  const head = JSON.stringify(fields).slice(0, -1)
  return `${head}${head.length > 1 ? ',' : ''}"Deep":${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}}`
}

/**
 * A group before-send whose `MsgBody` holds a merged-forward message (`TIMRelayElem`) holding a
 * merged-forward message… `levels` deep, with the fields Tencent documents for each level, and a
 * text element at the bottom. Each level adds 5 to the depth: depth = 1 + 5 × levels + 3.
 */
export function relayText(levels: number, fields: Record<string, unknown> = {}): string {
  let body = '[{"MsgType":"TIMTextElem","MsgContent":{"Text":"hi"}}]'
  for (let i = 0; i < levels; i++) {
    body = `[{"MsgType":"TIMRelayElem","MsgContent":{"Title":"Chat history","MsgNum":1,"CompatibleText":"[Chat history]","AbstractList":["a: hi"],"MsgList":[{"From_Account":"a","GroupId":"@TGS#g","MsgSeq":${i + 1},"MsgRandom":${i + 7},"MsgTimeStamp":1670574414,"MsgBody":${body}}]}}]`
  }
  const head = JSON.stringify({
    CallbackCommand: 'Group.CallbackBeforeSendMsg',
    GroupId: '@TGS#g',
    Type: 'Public',
    From_Account: 'a',
    Operator_Account: 'a',
    Random: 1,
    OnlineOnlyFlag: 0,
    ...fields,
  }).slice(0, -1)
  return `${head},"MsgBody":${body}}`
}

export const relayDepth = (levels: number) => 1 + 5 * levels + 3
