/**
 * A refused REST call: answered HTTP 200 with `{"ActionStatus":"FAIL","ErrorCode":code,"ErrorInfo":info}`,
 * as Tencent answers every API error (HTTP status 200 unless the network fails).
 */
export class RestError extends Error {
  constructor(
    readonly code: number,
    readonly info: string,
  ) {
    super(`${code}: ${info}`)
    this.name = 'RestError'
  }
}

/** The success envelope, with the API's own fields after it. */
export function ok(fields: Record<string, unknown> = {}): Record<string, unknown> {
  return { ActionStatus: 'OK', ErrorInfo: '', ErrorCode: 0, ...fields }
}

/** The failure envelope. */
export function fail(code: number, info: string, fields: Record<string, unknown> = {}): Record<string, unknown> {
  return { ActionStatus: 'FAIL', ErrorInfo: info, ErrorCode: code, ...fields }
}
