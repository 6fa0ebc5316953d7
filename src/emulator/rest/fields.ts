import type { MsgElement } from '../../protocol/generated/events.js'
import { RestError } from './rest-error.js'

/**
 * Readers for REST request fields. Each refuses a missing or mistyped field with the API's own error
 * code and an `ErrorInfo` that names the field, so a developer sees what to fix.
 */
export type Body = Record<string, unknown>

const describe = (v: unknown) => (Array.isArray(v) ? 'an array' : v === null ? 'null' : typeof v)

export function requiredString(body: Body, field: string, code: number): string {
  const v = body[field]
  if (v === undefined) throw new RestError(code, `${field} is required`)
  if (typeof v !== 'string' || v === '') throw new RestError(code, `${field} must be a non-empty string, got ${describe(v)}`)
  return v
}

/** An optional string; `""` counts as absent where `emptyIsAbsent` (e.g. `TopicId`). */
export function optionalString(body: Body, field: string, code: number, emptyIsAbsent = false): string | undefined {
  const v = body[field]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'string') throw new RestError(code, `${field} must be a string, got ${describe(v)}`)
  return emptyIsAbsent && v === '' ? undefined : v
}

const isUint32 = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffff_ffff

/** A uint32 (`Random`, `MsgRandom`, `MsgSeq`); values above 2^31 are valid. */
export function requiredUint32(body: Body, field: string, code: number): number {
  const v = body[field]
  if (v === undefined) throw new RestError(code, `${field} is required`)
  if (!isUint32(v)) throw new RestError(code, `${field} must be an integer 0–4294967295, got ${JSON.stringify(v)}`)
  return v
}

export function optionalUint32(body: Body, field: string, code: number): number | undefined {
  return body[field] === undefined ? undefined : requiredUint32(body, field, code)
}

export function optionalFlag(body: Body, field: string, code: number): 0 | 1 | undefined {
  const v = body[field]
  if (v === undefined) return undefined
  if (v !== 0 && v !== 1) throw new RestError(code, `${field} must be 0 or 1, got ${JSON.stringify(v)}`)
  return v
}

export function optionalStringList(body: Body, field: string, code: number): string[] {
  const v = body[field]
  if (v === undefined || v === null) return []
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new RestError(code, `${field} must be an array of strings`)
  return v as string[]
}

/**
 * A `MsgBody`: a non-empty array of `{ MsgType, MsgContent }` with at most one `TIMCustomElem`
 * (as Tencent's Message Formats page says). Unknown `MsgType`s are kept, as IM keeps them.
 */
export function requiredMsgBody(body: Body, code: number): MsgElement[] {
  const v = body.MsgBody
  if (v === undefined) throw new RestError(code, 'MsgBody is required')
  if (!Array.isArray(v) || v.length === 0)
    throw new RestError(code, `MsgBody must be a non-empty array of message elements, got ${describe(v)}`)
  let custom = 0
  v.forEach((e: unknown, i) => {
    if (e === null || typeof e !== 'object' || Array.isArray(e)) throw new RestError(code, `MsgBody[${i}] must be an object`)
    const { MsgType, MsgContent } = e as Record<string, unknown>
    if (typeof MsgType !== 'string' || MsgType === '') throw new RestError(code, `MsgBody[${i}].MsgType must be a non-empty string`)
    if (MsgContent === null || typeof MsgContent !== 'object' || Array.isArray(MsgContent)) {
      throw new RestError(code, `MsgBody[${i}].MsgContent must be an object`)
    }
    if (MsgType === 'TIMTextElem' && typeof (MsgContent as Record<string, unknown>).Text !== 'string') {
      throw new RestError(code, `MsgBody[${i}].MsgContent.Text must be a string`)
    }
    if (MsgType === 'TIMCustomElem' && ++custom > 1) throw new RestError(code, 'MsgBody carries more than one TIMCustomElem')
  })
  return v as MsgElement[]
}

/** `ForbidCallbackControl`: which callbacks this one message skips. */
export function forbidCallbackControl(body: Body, code: number): { before: boolean; after: boolean } {
  const list = optionalStringList(body, 'ForbidCallbackControl', code)
  return { before: list.includes('ForbidBeforeSendMsgCallback'), after: list.includes('ForbidAfterSendMsgCallback') }
}

/** Bytes of a message's body and custom data, compared with the message size limit. */
export function messageBytes(msgBody: MsgElement[], cloudCustomData: string | undefined): number {
  return Buffer.byteLength(JSON.stringify(msgBody)) + (cloudCustomData === undefined ? 0 : Buffer.byteLength(cloudCustomData))
}
