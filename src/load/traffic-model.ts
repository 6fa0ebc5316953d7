import type { MsgElement } from '../protocol/generated/events.js'
import type { Mix, Operation } from './load-options.js'

/** One callback to send; `then` sees its answer (or failure) and may queue follow-ups. */
export interface PlannedCallback {
  command: string
  body: Record<string, unknown>
  then?: (delivered: boolean, answer: Record<string, unknown> | undefined) => void
}

interface LoadGroup {
  GroupId: string
  Type: string
  TopicId?: string
  lastSeq: number
  /** Sent, not yet recalled: what a recall may pick. */
  recent: number[]
}

interface SentC2C {
  From_Account: string
  To_Account: string
  MsgKey: string
}

const TEXTS = [
  'hello',
  '今晚八点开会，别迟到 — see you at 8pm!',
  'ok 👍',
  'see https://example.com/x',
  'call me at 138 0013 8000',
  'lol',
  'where are you?',
]
const TYPES = ['Public', 'Work', 'Meeting', 'AVChatRoom']
const MAX_RECENT = 64
const MAX_C2C_POOL = 4096

const pick = <T>(list: ReadonlyArray<T>): T => list[Math.floor(Math.random() * list.length)]!
const uint32 = () => Math.floor(Math.random() * 0x1_0000_0000)
const body = (): MsgElement[] => [{ MsgType: 'TIMTextElem', MsgContent: { Text: pick(TEXTS) } }]

/**
 * A consistent stream of callbacks as the IM backend would send them: group before-send, then
 * after-send with the next `MsgSeq` of that group (or topic) when the answer lets the message through;
 * one-to-one before-/after-send with `MsgKey`s and unread counts; recalls and withdraws of messages it
 * sent. Follow-ups go first, so a message's after-send follows its before-send.
 */
export class TrafficModel {
  readonly #groups: LoadGroup[]
  readonly #users: string[]
  readonly #c2cSent: SentC2C[] = []
  readonly #unread = new Map<string, number>()
  readonly #c2cSeq = new Map<string, number>()
  readonly #followUps: PlannedCallback[] = []
  #followHead = 0
  readonly #ops: Operation[]
  readonly #cumulative: number[]
  readonly #total: number

  constructor(
    mix: Mix,
    groupCount: number,
    userCount: number,
    readonly now: () => number = Date.now,
  ) {
    this.#users = Array.from({ length: userCount }, (_, i) => `user${i}`)
    this.#groups = Array.from({ length: groupCount }, (_, i) => {
      if (i % 10 === 9) {
        const GroupId = `@TGS#_@TGS#LOAD${String(i).padStart(6, '0')}`
        return { GroupId, Type: 'Community', TopicId: `${GroupId}@TOPIC#_general`, lastSeq: 0, recent: [] }
      }
      return { GroupId: `@TGS#LOAD${String(i).padStart(5, '0')}`, Type: TYPES[i % TYPES.length]!, lastSeq: 0, recent: [] }
    })
    this.#ops = (Object.keys(mix) as Operation[]).filter((op) => mix[op] > 0)
    let sum = 0
    this.#cumulative = this.#ops.map((op) => (sum += mix[op]))
    this.#total = sum
  }

  next(): PlannedCallback {
    if (this.#followHead < this.#followUps.length) {
      const planned = this.#followUps[this.#followHead++]!
      if (this.#followHead > 1024 && this.#followHead * 2 > this.#followUps.length) {
        this.#followUps.splice(0, this.#followHead)
        this.#followHead = 0
      }
      return planned
    }
    const r = Math.random() * this.#total
    const op = this.#ops[this.#cumulative.findIndex((c) => r < c)] ?? this.#ops[0]!
    switch (op) {
      case 'recall':
        return this.#recall() ?? this.#groupSend()
      case 'withdraw':
        return this.#withdraw() ?? this.#c2cSend()
      case 'c2c':
        return this.#c2cSend()
      default:
        return this.#groupSend()
    }
  }

  #groupSend(): PlannedCallback {
    const g = pick(this.#groups)
    const from = pick(this.#users)
    const random = uint32()
    const eventTime = this.now()
    const msgTime = Math.floor(eventTime / 1000)
    const msgId = `144115${String(random).padStart(12, '0')}-${msgTime}-${random}`
    const before: Record<string, unknown> = {
      CallbackCommand: 'Group.CallbackBeforeSendMsg',
      GroupId: g.GroupId,
      Type: g.Type,
      From_Account: from,
      Operator_Account: from,
      Random: random,
      MsgId: msgId,
      OnlineOnlyFlag: 0,
      MsgBody: body(),
      CloudCustomData: '',
      ...(g.TopicId !== undefined && { TopicId: g.TopicId }),
      EventTime: eventTime,
    }
    return {
      command: 'Group.CallbackBeforeSendMsg',
      body: before,
      then: (delivered, answer) => {
        if (!delivered) return
        const seq = ++g.lastSeq
        g.recent.push(seq)
        if (g.recent.length > MAX_RECENT) g.recent.shift()
        this.#followUps.push({
          command: 'Group.CallbackAfterSendMsg',
          body: {
            ...before,
            CallbackCommand: 'Group.CallbackAfterSendMsg',
            MsgSeq: seq,
            MsgTime: msgTime,
            MsgBody: answer?.MsgBody ?? before.MsgBody,
            CloudCustomData: answer?.CloudCustomData ?? before.CloudCustomData,
            EventTime: this.now(),
          },
        })
      },
    }
  }

  #recall(): PlannedCallback | undefined {
    for (let tries = 0; tries < 8; tries++) {
      const g = pick(this.#groups)
      if (g.recent.length === 0) continue
      const count = Math.min(g.recent.length, 1 + Math.floor(Math.random() * 3))
      const seqs = g.recent.splice(g.recent.length - count, count)
      return {
        command: 'Group.CallbackAfterRecallMsg',
        body: {
          CallbackCommand: 'Group.CallbackAfterRecallMsg',
          Operator_Account: 'admin',
          Type: g.Type,
          GroupId: g.GroupId,
          MsgSeqList: seqs.map((MsgSeq) => ({ MsgSeq })),
          ...(g.TopicId !== undefined && { TopicId: g.TopicId }),
          EventTime: this.now(),
        },
      }
    }
    return undefined
  }

  #c2cSend(): PlannedCallback {
    const from = pick(this.#users)
    let to = pick(this.#users)
    if (to === from) to = this.#users[(this.#users.indexOf(from) + 1) % this.#users.length]!
    const seq = (this.#c2cSeq.get(from) ?? 0) + 1
    this.#c2cSeq.set(from, seq)
    const msgRandom = uint32()
    const eventTime = this.now()
    const msgTime = Math.floor(eventTime / 1000)
    const msgKey = `${seq}_${msgRandom}_${msgTime}`
    const before: Record<string, unknown> = {
      CallbackCommand: 'C2C.CallbackBeforeSendMsg',
      From_Account: from,
      To_Account: to,
      MsgSeq: seq,
      MsgRandom: msgRandom,
      MsgTime: msgTime,
      MsgKey: msgKey,
      MsgId: `144115${String(msgRandom).padStart(12, '0')}-${msgTime}-${msgRandom}`,
      OnlineOnlyFlag: 0,
      MsgBody: body(),
      EventTime: eventTime,
    }
    return {
      command: 'C2C.CallbackBeforeSendMsg',
      body: before,
      then: (delivered, answer) => {
        if (!delivered) return
        const unread = (this.#unread.get(to) ?? 0) + 1
        this.#unread.set(to, unread)
        if (this.#c2cSent.length >= MAX_C2C_POOL) this.#c2cSent.shift()
        this.#c2cSent.push({ From_Account: from, To_Account: to, MsgKey: msgKey })
        const after: Record<string, unknown> = {
          ...before,
          CallbackCommand: 'C2C.CallbackAfterSendMsg',
          MsgBody: answer?.MsgBody ?? before.MsgBody,
          SendMsgResult: 0,
          ErrorInfo: 'send msg succeed',
          UnreadMsgNum: unread,
          EventTime: this.now(),
        }
        if (answer?.CloudCustomData !== undefined) after.CloudCustomData = answer.CloudCustomData
        this.#followUps.push({ command: 'C2C.CallbackAfterSendMsg', body: after })
      },
    }
  }

  #withdraw(): PlannedCallback | undefined {
    if (this.#c2cSent.length === 0) return undefined
    const i = Math.floor(Math.random() * this.#c2cSent.length)
    const m = this.#c2cSent[i]!
    this.#c2cSent[i] = this.#c2cSent[this.#c2cSent.length - 1]!
    this.#c2cSent.pop()
    const unread = Math.max(0, (this.#unread.get(m.To_Account) ?? 0) - 1)
    this.#unread.set(m.To_Account, unread)
    return {
      command: 'C2C.CallbackAfterMsgWithDraw',
      body: { CallbackCommand: 'C2C.CallbackAfterMsgWithDraw', ...m, UnreadMsgNum: unread, EventTime: this.now() },
    }
  }
}
