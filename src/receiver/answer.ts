import type { TimhookError } from '../protocol/errors.js'
import { OK_ANSWER, type Answer } from '../protocol/verdict.js'

/** What the receiver answers: an HTTP status, headers and the JSON body as a string. Treat it as read-only. */
export interface ReceiverResponse {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
}

const JSON_HEADERS: Readonly<Record<string, string>> = Object.freeze({ 'content-type': 'application/json; charset=utf-8' })
const OK_BODY = JSON.stringify(OK_ANSWER)
// The answer to nearly every callback, built once.
const OK_RESPONSE: ReceiverResponse = Object.freeze({ status: 200, headers: JSON_HEADERS, body: OK_BODY })

/** HTTP 200 with Tencent's envelope. */
export function okResponse(answer: Answer = OK_ANSWER): ReceiverResponse {
  return answer === OK_ANSWER ? OK_RESPONSE : { status: 200, headers: JSON_HEADERS, body: JSON.stringify(answer) }
}

/** A 4xx/5xx with the FAIL envelope; `ErrorInfo` names the cause as "<CODE>: <message>". */
export function failResponse(error: TimhookError): ReceiverResponse {
  const headers: Record<string, string> = { ...JSON_HEADERS }
  // The body of an over-limit request was not read: the connection cannot be reused.
  if (error.code === 'TIMHOOK_BODY_TOO_LARGE') headers.connection = 'close'
  if (error.code === 'TIMHOOK_METHOD_NOT_ALLOWED') headers.allow = 'POST'
  return {
    status: error.status,
    headers,
    body: JSON.stringify({ ActionStatus: 'FAIL', ErrorCode: error.status, ErrorInfo: `${error.code}: ${error.message}` }),
  }
}
