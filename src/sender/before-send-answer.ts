/** How IM acts on a before-send callback's answer: deliver (rewritten or not), refuse or drop. */
import { denyCodeFamily, DENY_RANGES } from '../protocol/verdict.js'
import type { MsgElement } from '../protocol/generated/events.js'
import type { CallbackOutcome } from './callback-sender.js'

/** What the IM backend does with a message after its before-send callback. */
export type DeliveryDecision =
  | { kind: 'deliver'; msgBody?: MsgElement[]; cloudCustomData?: string; failure?: string }
  | { kind: 'deny'; code: number; info: string }
  | { kind: 'drop' }

/** What IM answers the sender when it refuses: its own code per family, and one text. */
const REFUSAL = { group: 10016, c2c: 20006 } as const
const REFUSAL_INFO = 'the App backend refused the message through a third-party callback'

const isElementArray = (v: unknown): v is MsgElement[] =>
  Array.isArray(v) &&
  v.length > 0 &&
  v.every((e) => e !== null && typeof e === 'object' && typeof (e as { MsgType?: unknown }).MsgType === 'string')

/**
 * Applies an answer as IM does: `0` delivers (with `MsgBody`/`CloudCustomData` replaced when given),
 * `1` refuses with 10016/20006, `2` drops silently, a code in the family's custom range refuses with
 * that code and `ErrorInfo`. Anything IM could not act on — timeout, non-200, not JSON, `ActionStatus`
 * other than `OK`, an unknown `ErrorCode`, a replacement `MsgBody` that is not a message body — is a
 * failed callback, and a failed callback delivers (Tencent's default) unless `failClosed`.
 * @example applyBeforeSendAnswer('group', outcome, false) // { kind: 'deny', code: 10016, … } for ErrorCode 1
 */
export function applyBeforeSendAnswer(family: 'group' | 'c2c', outcome: CallbackOutcome, failClosed: boolean): DeliveryDecision {
  const failed = (why: string): DeliveryDecision =>
    failClosed
      ? { kind: 'deny', code: REFUSAL[family], info: `callback failed (${why}); refused because fail-closed is set` }
      : { kind: 'deliver', failure: why }
  if (outcome.kind === 'failed') return failed(outcome.detail)
  const { answer } = outcome
  if (answer.ActionStatus !== 'OK') return failed(`ActionStatus is ${JSON.stringify(answer.ActionStatus)}, not "OK"`)
  const code = answer.ErrorCode
  if (typeof code !== 'number' || !Number.isInteger(code)) return failed(`ErrorCode is ${JSON.stringify(code)}, not an integer`)
  const info = typeof answer.ErrorInfo === 'string' ? answer.ErrorInfo : ''
  if (code === 0) {
    const decision: DeliveryDecision = { kind: 'deliver' }
    if (answer.MsgBody !== undefined) {
      if (!isElementArray(answer.MsgBody)) return failed('the replacement MsgBody is not a non-empty array of message elements')
      decision.msgBody = answer.MsgBody
    }
    if (answer.CloudCustomData !== undefined) {
      if (typeof answer.CloudCustomData !== 'string') return failed('the replacement CloudCustomData is not a string')
      decision.cloudCustomData = answer.CloudCustomData
    }
    return decision
  }
  if (code === 1) return { kind: 'deny', code: REFUSAL[family], info: REFUSAL_INFO }
  if (code === 2) return { kind: 'drop' }
  // A custom code counts only in the message's own family's range (the one definition of the ranges, protocol/verdict.ts).
  if (denyCodeFamily(code) === family) return { kind: 'deny', code, info }
  const [low, high] = DENY_RANGES[family]
  return failed(`ErrorCode ${code} is neither 0, 1, 2 nor in ${low}–${high}`)
}
