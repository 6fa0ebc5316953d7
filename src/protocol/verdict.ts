/**
 * Verdicts: what a before-event handler decides, and how each decision is written on the wire (ErrorCode 0 allows, 1 refuses, 2 drops silently,
 * a code in the family's custom range refuses with the app's ErrorInfo).
 */
import { commandInfo } from './commands.js'
import { TimhookError } from './errors.js'
import type { MsgElement } from './generated/events.js'

const VERDICT = Symbol.for('timhook.verdict')

export type Verdict =
  | { readonly [VERDICT]: true; readonly kind: 'allow'; readonly msgBody?: MsgElement[]; readonly cloudCustomData?: string }
  | { readonly [VERDICT]: true; readonly kind: 'deny'; readonly code?: number; readonly info?: string }
  | { readonly [VERDICT]: true; readonly kind: 'drop' }

export interface Rewrite {
  /** Replacement message body; IM delivers and stores this instead of the original. */
  msgBody?: MsgElement[] | undefined
  /** Replacement `CloudCustomData`. */
  cloudCustomData?: string | undefined
}

export interface CustomDeny {
  /** Passed to the sending client: 10100–10200 for group messages, 120001–130000 for one-to-one. */
  code: number
  /** Shown to the sending client with the code. */
  info?: string | undefined
}

export const GROUP_DENY_RANGE = [10100, 10200] as const
export const C2C_DENY_RANGE = [120001, 130000] as const

/** The custom deny-code range of each message family. */
export const DENY_RANGES: Readonly<Record<'group' | 'c2c', readonly [number, number]>> = Object.freeze({
  group: GROUP_DENY_RANGE,
  c2c: C2C_DENY_RANGE,
})

/**
 * The family whose custom range holds `code`, or undefined: the one definition of the ranges, used
 * where a code is built (`verdict.deny`), loaded (a policy's rule) and answered (`answerFor`).
 * @example denyCodeFamily(10101) // 'group'
 */
export function denyCodeFamily(code: number): 'group' | 'c2c' | undefined {
  if (!Number.isInteger(code)) return undefined
  if (code >= GROUP_DENY_RANGE[0] && code <= GROUP_DENY_RANGE[1]) return 'group'
  if (code >= C2C_DENY_RANGE[0] && code <= C2C_DENY_RANGE[1]) return 'c2c'
  return undefined
}

const ALLOW: Verdict = Object.freeze({ [VERDICT]: true as const, kind: 'allow' as const })
const DENY: Verdict = Object.freeze({ [VERDICT]: true as const, kind: 'deny' as const })
const DROP: Verdict = Object.freeze({ [VERDICT]: true as const, kind: 'drop' as const })

/**
 * Builders for before-event answers.
 * @example
 * receiver.on('Group.CallbackBeforeSendMsg', (e) => {
 *   if (isSpam(e.MsgBody)) return verdict.deny({ code: 10101, info: 'spam is not allowed' })
 *   return verdict.allow({ msgBody: [...e.MsgBody, levelElem] }) // rewrite: stamp a member level
 * })
 */
export const verdict = {
  /** Deliver the message — as sent, or rewritten (`ErrorCode 0`). */
  allow(rewrite?: Rewrite): Verdict {
    if (rewrite === undefined || (rewrite.msgBody === undefined && rewrite.cloudCustomData === undefined)) return ALLOW
    const { msgBody, cloudCustomData } = rewrite
    if (msgBody !== undefined) {
      // Tencent delivers the original when the replacement is unusable; refusing it here says why.
      if (!Array.isArray(msgBody) || msgBody.length === 0) {
        throw new TypeError('verdict.allow({ msgBody }): msgBody must be a non-empty array of message elements')
      }
      const bad = msgBody.findIndex(
        (el) => el === null || typeof el !== 'object' || typeof (el as { MsgType?: unknown }).MsgType !== 'string',
      )
      if (bad !== -1) throw new TypeError(`verdict.allow({ msgBody }): msgBody[${bad}] is not a message element ({ MsgType, MsgContent })`)
    }
    if (cloudCustomData !== undefined && typeof cloudCustomData !== 'string') {
      throw new TypeError('verdict.allow({ cloudCustomData }): cloudCustomData must be a string')
    }
    return Object.freeze({ [VERDICT]: true as const, kind: 'allow' as const, ...rewrite })
  },
  /**
   * Refuse the message. Without arguments the sender gets 10016 (group) or 20006 (one-to-one);
   * with a custom code the sender gets that code and `info`.
   * @throws TimhookError TIMHOOK_DENY_CODE_OUT_OF_RANGE when the code is in neither custom range.
   */
  deny(custom?: CustomDeny): Verdict {
    if (custom === undefined) return DENY
    const { code, info } = custom
    if (info !== undefined && typeof info !== 'string') throw new TypeError('verdict.deny({ info }): info must be a string')
    if (denyCodeFamily(code) === undefined) {
      throw new TimhookError('TIMHOOK_DENY_CODE_OUT_OF_RANGE', code)
    }
    return Object.freeze({ [VERDICT]: true as const, kind: 'deny' as const, code, info: info ?? '' })
  },
  /** Drop the message silently: not delivered, but the sender is told it was sent (`ErrorCode 2`). */
  drop(): Verdict {
    return DROP
  },
}

/** True when `value` was built by `verdict.*`. */
export function isVerdict(value: unknown): value is Verdict {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[VERDICT] === true
}

/** The answer body Tencent expects. */
export interface Answer {
  ActionStatus: 'OK' | 'FAIL'
  ErrorCode: number
  ErrorInfo: string
  MsgBody?: MsgElement[]
  CloudCustomData?: string
}

/** The answer to every after-event, unknown command and allowed before-event. */
export const OK_ANSWER: Readonly<Answer> = Object.freeze({ ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '' })

/**
 * Writes a verdict as the answer for `command`, checking a custom deny code against the
 * command's range (a group code is never sent for a one-to-one message, nor the reverse).
 * @throws TimhookError TIMHOOK_DENY_CODE_OUT_OF_RANGE
 */
export function answerFor(command: string, v: Verdict): Answer {
  switch (v.kind) {
    case 'allow': {
      if (v.msgBody === undefined && v.cloudCustomData === undefined) return OK_ANSWER
      const answer: Answer = { ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '' }
      if (v.msgBody !== undefined) answer.MsgBody = v.msgBody
      if (v.cloudCustomData !== undefined) answer.CloudCustomData = v.cloudCustomData
      return answer
    }
    case 'drop':
      return { ActionStatus: 'OK', ErrorCode: 2, ErrorInfo: '' }
    case 'deny': {
      if (v.code === undefined) return { ActionStatus: 'OK', ErrorCode: 1, ErrorInfo: '' }
      // A code built for one family must not reach the other's sender. The receiver keeps the answer
      // of a deny verdict per command, so this runs once per (verdict, command), not per message.
      const family = commandInfo(command)?.family
      if ((family === 'group' || family === 'c2c') && denyCodeFamily(v.code) !== family) {
        const range = DENY_RANGES[family]
        throw new TimhookError('TIMHOOK_DENY_CODE_OUT_OF_RANGE', `${v.code} (for ${command}: ${range[0]}–${range[1]})`)
      }
      return { ActionStatus: 'OK', ErrorCode: v.code, ErrorInfo: v.info ?? '' }
    }
  }
}

/** Reads a verdict back from an answer, as it is (no validation: it describes what was sent). */
export function verdictOfAnswer(answer: Pick<Answer, 'ErrorCode' | 'ErrorInfo' | 'MsgBody' | 'CloudCustomData'>): Verdict {
  if (answer.ErrorCode === 0) {
    if (answer.MsgBody === undefined && answer.CloudCustomData === undefined) return ALLOW
    return Object.freeze({
      [VERDICT]: true as const,
      kind: 'allow' as const,
      ...(answer.MsgBody !== undefined ? { msgBody: answer.MsgBody } : {}),
      ...(answer.CloudCustomData !== undefined ? { cloudCustomData: answer.CloudCustomData } : {}),
    })
  }
  if (answer.ErrorCode === 1) return DENY
  if (answer.ErrorCode === 2) return DROP
  return Object.freeze({ [VERDICT]: true as const, kind: 'deny' as const, code: answer.ErrorCode, info: answer.ErrorInfo })
}
