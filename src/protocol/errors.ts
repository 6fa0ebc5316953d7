/**
 * The one error catalogue: every way timhook refuses a request or reports a failure has a stable
 * code, an HTTP status and a message template. Rejections are answered with Tencent's FAIL
 * envelope whose `ErrorInfo` is `"<CODE>: <message>"`, so a person reading a log or a packet
 * capture sees the cause.
 */
export const ERRORS = {
  // ── rejections: the request is not a callback from our app ─────────────────────────────
  TIMHOOK_METHOD_NOT_ALLOWED: { status: 405, message: 'callbacks are POST requests; got %s' },
  TIMHOOK_SDKAPPID_MISSING: { status: 400, message: 'the SdkAppid query parameter is missing' },
  TIMHOOK_SDKAPPID_MISMATCH: { status: 403, message: 'SdkAppid %s is not this app (expected %s)' },
  TIMHOOK_SIGN_MISSING: { status: 401, message: 'Sign and RequestTime query parameters are required: a callback token is configured' },
  TIMHOOK_SIGN_MISMATCH: { status: 401, message: 'Sign does not match sha256(token + RequestTime) for any configured token' },
  TIMHOOK_REQUEST_TIME_INVALID: { status: 401, message: 'RequestTime %s is not a Unix time in seconds' },
  TIMHOOK_REQUEST_TIME_SKEW: { status: 401, message: 'RequestTime is %s s from now; at most %s s is accepted (replay protection)' },
  TIMHOOK_BODY_TOO_LARGE: { status: 413, message: 'body exceeds the limit of %s bytes' },
  TIMHOOK_BODY_INCOMPLETE: { status: 400, message: 'body ended after %s bytes but content-length said %s' },
  TIMHOOK_BODY_TOO_DEEP: { status: 400, message: 'body nests arrays and objects deeper than %s levels' },
  TIMHOOK_BODY_EMPTY: { status: 400, message: 'body is empty; a callback carries a JSON object' },
  TIMHOOK_BODY_INVALID_JSON: { status: 400, message: 'body is not valid JSON: %s' },
  TIMHOOK_BODY_NOT_OBJECT: { status: 400, message: 'body is JSON but not an object (got %s)' },
  TIMHOOK_BODY_FORBIDDEN_KEY: { status: 400, message: 'body contains the key "%s" (prototype poisoning)' },
  TIMHOOK_COMMAND_MISSING: { status: 400, message: 'CallbackCommand is missing from both the query and the body' },
  TIMHOOK_COMMAND_MISMATCH: { status: 400, message: 'body CallbackCommand "%s" contradicts the query CallbackCommand "%s"' },
  TIMHOOK_INVALID_EVENT: { status: 400, message: '%s does not match its schema: %s' },
  // ── misconfiguration of the app that hosts the receiver ─────────────────────────────────
  TIMHOOK_INTERNAL: { status: 500, message: 'internal error in timhook: %s (please report it)' },
  TIMHOOK_BODY_ALREADY_PARSED: {
    status: 500,
    message:
      'the request body was already parsed by a framework (e.g. express.json()); timhook needs the raw bytes — mount it before body parsers or pass the raw body',
  },
  // ── failures reported to onError; the answer still goes out ─────────────────────────────
  TIMHOOK_HANDLER_FAILED: { status: 200, message: 'a %s handler threw: %s' },
  TIMHOOK_DEADLINE_EXCEEDED: { status: 200, message: '%s took longer than %s ms; %s' },
  TIMHOOK_EVENT_SCHEMA_MISMATCH: {
    status: 200,
    message:
      '%s does not match its schema: %s; accepted and given to its handlers with ctx.valid false (set strict: true to reject instead)',
  },
  TIMHOOK_VERDICT_INVALID: { status: 200, message: 'handler returned an invalid verdict for %s: %s; answered with the fallback verdict' },
  TIMHOOK_ACK_FAILED: {
    status: 503,
    message: 'an acknowledging listener failed (%s); answered FAIL so the callback can be redelivered',
  },
  // ── programming errors, thrown at the call site ─────────────────────────────────────────
  TIMHOOK_DENY_CODE_OUT_OF_RANGE: {
    status: 500,
    message: 'deny code %s is outside the custom ranges: groups 10100–10200, one-to-one 120001–130000',
  },
  TIMHOOK_CONFIG_INVALID: { status: 500, message: 'invalid receiver option %s: %s' },
  TIMHOOK_POLICY_INVALID: { status: 500, message: 'invalid policy%s: %s' },
  TIMHOOK_DUPLICATE_DECIDER: {
    status: 500,
    message: '%s already has a decision handler; a before-event has exactly one (use onAny or after-events to observe)',
  },
} as const satisfies Record<string, { status: number; message: string }>

export type ErrorCode = keyof typeof ERRORS

/** Every rejection code: the ones answered with a 4xx before any handler runs. */
export type RejectionCode = {
  [K in ErrorCode]: (typeof ERRORS)[K]['status'] extends 400 | 401 | 403 | 405 | 413 ? K : never
}[ErrorCode]

function format(template: string, args: ReadonlyArray<unknown>): string {
  let i = 0
  return template.replace(/%s/g, () => String(args[i++]))
}

/**
 * An error with a stable `code` from the catalogue and the HTTP `status` it is answered with.
 * @example
 * throw new TimhookError('TIMHOOK_SDKAPPID_MISMATCH', '1400000001', '1400000000')
 */
export class TimhookError extends Error {
  readonly code: ErrorCode
  readonly status: number

  constructor(code: ErrorCode, ...args: unknown[]) {
    super(format(ERRORS[code].message, args))
    this.name = 'TimhookError'
    this.code = code
    this.status = ERRORS[code].status
  }

  /** True when this error is a rejection of the request (a 4xx before any handler ran). */
  get isRejection(): boolean {
    return this.status >= 400 && this.status < 500
  }
}
