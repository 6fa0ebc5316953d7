import type { MsgElement } from '../../protocol/generated/events.js'

/** A stored one-to-one message. */
export interface StoredC2CMessage {
  MsgKey: string
  From_Account: string
  To_Account: string
  MsgSeq: number
  MsgRandom: number
  MsgTime: number
  MsgId: string
  OnlineOnlyFlag: number
  MsgBody: MsgElement[]
  CloudCustomData?: string
  /** Counted in the recipient's unread total (false with `SendMsgControl: ["NoUnread"]`). */
  CountsUnread: boolean
  /** Set once withdrawn. */
  Withdraw?: { WithdrawTime: number }
}

const pairKey = (a: string, b: string) => (a < b ? `${a}\u0000${b}` : `${b}\u0000${a}`)
// MsgKey is MsgSeq_MsgRandom_MsgTime: two senders can pick the same MsgSeq and MsgRandom in the same
// second, so a MsgKey is unique only within one sender → recipient direction (withdraw names both).
const messageKey = (from: string, to: string, msgKey: string) => `${from}\u0000${to}\u0000${msgKey}`

/**
 * One-to-one messages by (`From_Account`, `To_Account`, `MsgKey`) and by conversation, and each account's unread total — what
 * `UnreadMsgNum` reports ("total unread one-to-one messages of To_Account").
 */
export class C2CStore {
  readonly #byKey = new Map<string, StoredC2CMessage>()
  readonly #byPair = new Map<string, StoredC2CMessage[]>()
  readonly #unread = new Map<string, number>()

  add(message: StoredC2CMessage): void {
    this.#byKey.set(messageKey(message.From_Account, message.To_Account, message.MsgKey), message)
    const key = pairKey(message.From_Account, message.To_Account)
    let list = this.#byPair.get(key)
    if (list === undefined) this.#byPair.set(key, (list = []))
    list.push(message)
    if (message.CountsUnread) this.#unread.set(message.To_Account, this.unreadOf(message.To_Account) + 1)
  }

  /** The message `from` sent `to` under `msgKey`. */
  get(from: string, to: string, msgKey: string): StoredC2CMessage | undefined {
    return this.#byKey.get(messageKey(from, to, msgKey))
  }

  /** Marks a message withdrawn; a withdrawn message no longer counts as unread. */
  withdraw(message: StoredC2CMessage, at: number): void {
    message.Withdraw = { WithdrawTime: at }
    if (message.CountsUnread) {
      message.CountsUnread = false
      this.#unread.set(message.To_Account, Math.max(0, this.unreadOf(message.To_Account) - 1))
    }
  }

  unreadOf(account: string): number {
    return this.#unread.get(account) ?? 0
  }

  /** The conversation between two accounts, ordered by `MsgTime` then `MsgSeq`, as IM orders history. */
  between(a: string, b: string): StoredC2CMessage[] {
    const list = this.#byPair.get(pairKey(a, b)) ?? []
    return [...list].sort((x, y) => x.MsgTime - y.MsgTime || x.MsgSeq - y.MsgSeq)
  }
}
