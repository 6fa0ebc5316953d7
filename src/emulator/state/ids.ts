/** Identifiers shaped like Tencent's (`@TGS#…` group IDs, `MsgSeq_MsgRandom_MsgTime` MsgKeys). */
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'

function randomTail(length: number): string {
  let s = ''
  for (let i = 0; i < length; i++) s += ALPHABET[Math.floor(Math.random() * ALPHABET.length)]
  return s
}

/** An auto-assigned group ID: `@TGS#…`, and `@TGS#_@TGS#…` for a Community. */
export function newGroupId(type: string): string {
  return type === 'Community' ? `@TGS#_@TGS#${randomTail(12)}` : `@TGS#${randomTail(9)}`
}

/** A topic ID: community ID + `@TOPIC#_` + a custom part. */
export function newTopicId(groupId: string): string {
  return `${groupId}@TOPIC#_${randomTail(12)}`
}

/** A random uint32, as `random`/`MsgRandom`/`MsgSeq` are. */
export function randomUint32(): number {
  return Math.floor(Math.random() * 0x1_0000_0000)
}

/** The one-to-one `MsgKey`: `{MsgSeq}_{MsgRandom}_{MsgTime}`, as every official example pairs them. */
export function c2cMsgKey(msgSeq: number, msgRandom: number, msgTime: number): string {
  return `${msgSeq}_${msgRandom}_${msgTime}`
}

/** A stable stand-in for an account's TinyID, so `MsgId` looks like the SDKs' `{tinyId}-{clientTime}-{random}`. */
function tinyIdOf(account: string): string {
  let h = 0n
  for (const ch of account) h = (h * 131n + BigInt(ch.codePointAt(0)!)) % 0x1_0000_0000_0000n
  return String(144115188075855872n + h)
}

/** A client message ID for `MsgId` (newer callback pages). */
export function newMsgId(account: string, timeSeconds: number, random: number): string {
  return `${tinyIdOf(account)}-${timeSeconds}-${random}`
}
