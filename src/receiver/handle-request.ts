/**
 * The receiver's core: raw request parts in, an answer out.
 * verify (method, SdkAppid, Sign, RequestTime) → decode (size, JSON, command, schema) → route → answer.
 */
import { randomBytes } from 'node:crypto'
import { commandInfo } from '../protocol/commands.js'
import { decodeEvent } from '../protocol/decode.js'
import { TimhookError, type ErrorCode } from '../protocol/errors.js'
import { parseJsonObject } from '../protocol/parse-json.js'
import { verify } from '../protocol/signature.js'
import { answerFor, isVerdict, verdict, type Verdict } from '../protocol/verdict.js'
import { normalizePlatform } from '../protocol/decode.js'
import { failResponse, okResponse, type ReceiverResponse } from './answer.js'
import type { CallbackContext } from './context.js'
import type { ResolvedOptions } from './options.js'
import { pickQuery, scanQuery, type CallbackQuery } from './parse-query.js'
import type { AnswerOutcome, Registry } from './registry.js'
import { type Deadlines, runWithDeadline } from './run-with-deadline.js'

type HeaderValue = string | string[] | undefined

// Request ids: a random per-process prefix and a counter — unique within the process, and cheap
// (randomUUID per request was 8 % of handle()).
const ID_PREFIX = randomBytes(4).toString('hex')
let idCounter = 0
const nextRequestId = () => `${ID_PREFIX}-${(++idCounter).toString(36)}`

/** The longest `x-request-id` kept from outside; it goes into logs and the store. */
export const MAX_REQUEST_ID_LENGTH = 64
const PLAIN_ID = /^[A-Za-z0-9._:-]+$/

/** The caller's `x-request-id` when short and plain (≤ 64 of `A-Z a-z 0-9 . _ : -`), else a fresh one. */
function requestIdOf(given: string | undefined): string {
  return given !== undefined && given.length <= MAX_REQUEST_ID_LENGTH && PLAIN_ID.test(given) ? given : nextRequestId()
}

/** A request as any HTTP stack can describe it. `body` must be the raw bytes (or their UTF-8 text). */
export interface RawRequest {
  method?: string | undefined
  query: URLSearchParams | Record<string, HeaderValue> | string
  headers?: Record<string, HeaderValue> | Headers | undefined
  body: Buffer | Uint8Array | string | null | undefined | object
  /** Set by adapters that refused the body while reading it (over the limit, incomplete); reported in order. */
  bodyError?: TimhookError | undefined
}

interface State {
  options: ResolvedOptions
  registry: Registry
  /** One timer for every pending request's deadline. */
  deadlines: Deadlines
}

function readQuery(query: RawRequest['query']): CallbackQuery {
  if (typeof query === 'string') return scanQuery(query)
  if (query instanceof URLSearchParams) return pickQuery((name) => query.get(name) ?? undefined)
  return pickQuery((name) => {
    const v = query[name]
    return Array.isArray(v) ? v[0] : v
  })
}

function header(headers: RawRequest['headers'], name: string): string | undefined {
  if (headers === undefined) return undefined
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined
  const v = (headers as Record<string, HeaderValue>)[name]
  return Array.isArray(v) ? v[0] : v
}

function rawBytes(body: RawRequest['body']): Buffer {
  if (body === null || body === undefined) return Buffer.alloc(0)
  if (typeof body === 'string') return Buffer.from(body, 'utf8')
  if (Buffer.isBuffer(body)) return body
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength)
  throw new TimhookError('TIMHOOK_BODY_ALREADY_PARSED')
}

const SIGN_FAILURES = {
  missing: 'TIMHOOK_SIGN_MISSING',
  'invalid-time': 'TIMHOOK_REQUEST_TIME_INVALID',
  skew: 'TIMHOOK_REQUEST_TIME_SKEW',
  mismatch: 'TIMHOOK_SIGN_MISMATCH',
} as const

/**
 * Handles one request. Never throws and never rejects: every failure becomes an answer. Answers
 * synchronously when every handler involved is synchronous, so the common case costs no promise.
 */
export function handleRequest(state: State, req: RawRequest): ReceiverResponse | Promise<ReceiverResponse>
/**
 * The same with a continuation for a late answer: returns the answer when it is ready at once;
 * otherwise returns undefined and calls `done` once with it and the request — through plain callbacks where every
 * acknowledging listener answered with a callback-style thenable (no promise on that path).
 */
export function handleRequest<R extends RawRequest>(
  state: State,
  req: R,
  done: (response: ReceiverResponse, request: R) => void,
): ReceiverResponse | undefined
export function handleRequest(
  state: State,
  req: RawRequest,
  done?: (response: ReceiverResponse, request: RawRequest) => void,
): ReceiverResponse | Promise<ReceiverResponse> | undefined {
  const { options } = state
  const started = state.registry.answerListeners.length > 0 ? performance.now() : 0
  const requestId = requestIdOf(header(req.headers, 'x-request-id'))
  let command: string | undefined
  let ctx: CallbackContext | undefined
  let event: Record<string, unknown> | undefined
  try {
    if (req.method !== undefined && req.method !== 'POST' && req.method.toUpperCase() !== 'POST')
      throw new TimhookError('TIMHOOK_METHOD_NOT_ALLOWED', req.method)
    const q = readQuery(req.query)
    const sdkAppId = q.SdkAppid
    if (!sdkAppId) throw new TimhookError('TIMHOOK_SDKAPPID_MISSING')
    if (!options.sdkAppIds.has(sdkAppId))
      throw new TimhookError('TIMHOOK_SDKAPPID_MISMATCH', JSON.stringify(sdkAppId.slice(0, 32)), options.sdkAppIdList)
    const now = options.now()
    if (options.tokens !== undefined) {
      const requestTime = q.RequestTime
      const result = verify({ sign: q.Sign, requestTime }, { tokens: options.tokens, maxSkewSeconds: options.maxSkewSeconds, now })
      if (!result.ok) {
        const code = SIGN_FAILURES[result.reason]
        throw code === 'TIMHOOK_REQUEST_TIME_SKEW'
          ? new TimhookError(code, result.skewSeconds, options.maxSkewSeconds)
          : new TimhookError(code, JSON.stringify(String(requestTime).slice(0, 32)))
      }
    }
    if (req.bodyError !== undefined) throw req.bodyError
    const raw = rawBytes(req.body)
    if (raw.length > options.bodyLimit) throw new TimhookError('TIMHOOK_BODY_TOO_LARGE', options.bodyLimit)
    const body = parseJsonObject(raw.toString('utf8'))
    const queryCommand = q.CallbackCommand
    const bodyCommand = body.CallbackCommand
    if (queryCommand && bodyCommand !== undefined && bodyCommand !== queryCommand) {
      throw new TimhookError('TIMHOOK_COMMAND_MISMATCH', String(bodyCommand).slice(0, 100), queryCommand.slice(0, 100))
    }
    command = queryCommand || (typeof bodyCommand === 'string' && bodyCommand !== '' ? bodyCommand : undefined)
    if (command === undefined) throw new TimhookError('TIMHOOK_COMMAND_MISSING')
    // The catalogue entry, looked up once: its phase and family travel in the context, and its own
    // string is the command from here on (the one sliced from this request's query is new, so every
    // Map and property lookup below would hash it again).
    const info = commandInfo(command)
    if (info !== undefined) command = info.command
    const decoded = decodeEvent(command, body)
    if (!decoded.ok && options.strict) throw new TimhookError('TIMHOOK_INVALID_EVENT', command, decoded.problem)
    event = body
    const context: CallbackContext = {
      requestId,
      command,
      phase: info === undefined ? 'after' : info.phase,
      family: info === undefined ? 'other' : info.family,
      sdkAppId,
      clientIp: q.ClientIP || undefined,
      optPlatform: normalizePlatform(q.OptPlatform),
      receivedAt: now,
      rawBody: raw,
      known: decoded.ok ? decoded.known : true,
      valid: decoded.ok,
      problem: decoded.ok ? undefined : decoded.problem,
      meta: {},
    }
    ctx = context
    if (!decoded.ok) report(state, new TimhookError('TIMHOOK_EVENT_SCHEMA_MISMATCH', command, decoded.problem), context)
    const routed = context.phase === 'before' ? decide(state, command, body, context) : notify(state, command, body, context)
    if (routed instanceof AckWait) {
      // The wait itself carries what the answer needs: no closure per request on serve's recording path.
      if (done !== undefined) {
        routed.answerWith(done, req, body, started)
        return undefined
      }
      return new Promise<ReceiverResponse>((resolve) => routed.answerWith(resolve, req, body, started))
    }
    if (routed instanceof Promise) {
      const c = command
      const e = event
      const answered = routed.then(
        (r) => finish(state, r, requestId, c, e, context, started),
        // A bug must not leave the request hanging nor become an unhandled rejection: a 500 names it.
        (err: unknown) => failed(state, err, requestId, c, e, context, started),
      )
      if (done === undefined) return answered
      void answered.then(
        (r) => deliver(state, done, r, req, requestId),
        // Not reached: neither handler above throws (finish() and failed() never do), so `answered`
        // cannot reject. It stays because a rejection nobody handles stops the process (Node's default
        // for unhandled rejections), and this request would have no answer: a guard costs nothing.
        (err: unknown) => deliver(state, done, failed(state, err, requestId, c, e, context, started), req, requestId),
      )
      return undefined
    }
    return finish(state, routed, requestId, command, event, context, started)
  } catch (err) {
    // failed() reports it, and never throws itself.
    return failed(state, err, requestId, command, event, ctx, started)
  }
}

/** The answer to a failure: its own status for a TimhookError, else a 500 TIMHOOK_INTERNAL. Never throws. */
function failed(
  state: State,
  err: unknown,
  requestId: string,
  command: string | undefined,
  event: Record<string, unknown> | undefined,
  ctx: CallbackContext | undefined,
  started: number,
): ReceiverResponse {
  const error = err instanceof TimhookError ? err : new TimhookError('TIMHOOK_INTERNAL', errorText(err))
  report(state, error, ctx, requestId)
  return finish(
    state,
    { response: failResponse(error), verdict: undefined, fallback: false, errorCode: error.code },
    requestId,
    command,
    event,
    ctx,
    started,
  )
}

/** Calls a late answer's continuation; one that throws is logged, never reaches the store's commit report or becomes an unhandled rejection. */
function deliver(
  state: State,
  done: (response: ReceiverResponse, request: RawRequest) => void,
  response: ReceiverResponse,
  req: RawRequest,
  requestId: string,
): void {
  try {
    done(response, req)
  } catch (err) {
    safely(() => state.options.logger.error({ requestId, err }, 'the handleWith callback threw'))
  }
}

/** Reports the answer to the `onAnswer` listeners and returns it. Never throws. */
function finish(
  state: State,
  routed: Routed,
  requestId: string,
  command: string | undefined,
  event: Record<string, unknown> | undefined,
  ctx: CallbackContext | undefined,
  started: number,
): ReceiverResponse {
  const listeners = state.registry.answerListeners
  if (listeners.length > 0) {
    let outcome: AnswerOutcome
    try {
      outcome = {
        requestId,
        command,
        status: routed.response.status,
        errorCode: routed.errorCode,
        verdict: routed.verdict,
        fallback: routed.fallback,
        durationMs: performance.now() - started,
        event,
        ctx,
      }
    } catch (err) {
      // Only the clock read can throw here (a replaced performance.now()). The answer stands as
      // decided — an after-event is committed already, and a 500 would only make Tencent send it
      // again — and goes out unreported. finish() never throws: every path that answers relies on it.
      safely(() => state.options.logger.error({ requestId, err }, 'reporting the answer threw'))
      return routed.response
    }
    for (const listener of listeners) {
      try {
        listener(outcome)
      } catch (err) {
        safely(() => state.options.logger.error({ requestId, err }, 'onAnswer listener threw'))
      }
    }
  }
  return routed.response
}

interface Routed {
  response: ReceiverResponse
  verdict: Verdict | undefined
  fallback: boolean
  errorCode: ErrorCode | undefined
}

/**
 * A before-event: one decision within the deadline, or the fallback verdict. onAny listeners are not
 * waited for. A body that failed its schema (`ctx.valid === false`, default mode) goes to the decider
 * too: the decider sees what arrived and decides, as it would for a valid one.
 */
function decide(state: State, command: string, event: Record<string, unknown>, ctx: CallbackContext): Routed | Promise<Routed> {
  const { options, registry } = state
  for (const listener of registry.anyListeners) invoke(state, listener.fn, event, ctx, 'onAny')
  const decider = registry.deciders.get(command)
  if (decider === undefined) return ALLOWED
  let result: unknown
  try {
    result = decider(event, ctx)
  } catch (error) {
    return decisionFailed(state, command, ctx, error)
  }
  if (!(result instanceof Promise)) return settleVerdict(state, command, ctx, result)
  return runWithDeadline(() => result as Promise<unknown>, state.deadlines).then((timed) => {
    if (timed.kind === 'value') return settleVerdict(state, command, ctx, timed.value)
    if (timed.kind === 'error') return decisionFailed(state, command, ctx, timed.error)
    report(
      state,
      new TimhookError('TIMHOOK_DEADLINE_EXCEEDED', `the ${command} decision`, options.deadlineMs, 'answered with the fallback verdict'),
      ctx,
    )
    return fallback(state, command, 'TIMHOOK_DEADLINE_EXCEEDED')
  })
}

const ALLOWED: Routed = { response: okResponse(), verdict: undefined, fallback: false, errorCode: undefined }

function decisionFailed(state: State, command: string, ctx: CallbackContext, error: unknown): Routed {
  report(state, new TimhookError('TIMHOOK_HANDLER_FAILED', command, errorText(error)), ctx)
  return fallback(state, command, 'TIMHOOK_HANDLER_FAILED')
}

function settleVerdict(state: State, command: string, ctx: CallbackContext, v: unknown): Routed {
  if (!isVerdict(v)) {
    report(
      state,
      new TimhookError(
        'TIMHOOK_VERDICT_INVALID',
        command,
        `expected verdict.allow(), verdict.deny() or verdict.drop(), got ${describe(v)}`,
      ),
      ctx,
    )
    return fallback(state, command, 'TIMHOOK_VERDICT_INVALID')
  }
  try {
    return routedFor(command, v)
  } catch (err) {
    report(state, new TimhookError('TIMHOOK_VERDICT_INVALID', command, errorText(err)), ctx)
    return fallback(state, command, 'TIMHOOK_VERDICT_INVALID')
  }
}

// Allow, deny and drop verdicts are usually built once and returned for many messages (a policy's
// rule, a handler's constant): their answer is serialized, and their outcome built, once per
// (verdict, command). Rewrites are not kept.
const answered = new WeakMap<Verdict, Map<string, Routed>>()
const ALLOWED_BY_DECIDER: Routed = Object.freeze({
  response: okResponse(),
  verdict: verdict.allow(),
  fallback: false,
  errorCode: undefined,
})

function routedFor(command: string, v: Verdict): Routed {
  if (v === ALLOWED_BY_DECIDER.verdict) return ALLOWED_BY_DECIDER
  if (v.kind === 'allow' && (v.msgBody !== undefined || v.cloudCustomData !== undefined))
    return { response: okResponse(answerFor(command, v)), verdict: v, fallback: false, errorCode: undefined }
  let byCommand = answered.get(v)
  const cached = byCommand?.get(command)
  if (cached !== undefined) return cached
  // Shared by every later answer: frozen, like the answer it holds.
  const routed: Routed = Object.freeze({
    response: Object.freeze(okResponse(answerFor(command, v))),
    verdict: v,
    fallback: false,
    errorCode: undefined,
  })
  if (byCommand === undefined) answered.set(v, (byCommand = new Map()))
  byCommand.set(command, routed)
  return routed
}

function fallback(state: State, command: string, errorCode: ErrorCode): Routed {
  const v = state.options.fallback
  try {
    return { response: okResponse(answerFor(command, v)), verdict: v, fallback: true, errorCode }
  } catch {
    // A custom fallback deny code outside this command's range: allow, as Tencent itself would on a
    // failure — and report allow, the verdict actually sent.
    return { response: okResponse(), verdict: ALLOW_VERDICT, fallback: true, errorCode }
  }
}

const ALLOW_VERDICT = verdict.allow()

/**
 * An after-event or unknown command: every listener runs and the answer waits for them (serverless
 * runtimes stop at the answer) — but no longer than `deadlineMs`, so a stuck listener cannot hold
 * the request (and its socket and body) past Tencent's 2 s. Late listeners keep running; an
 * acknowledging one that has not finished makes the answer a 503, since nothing confirms it stored.
 */
function notify(state: State, command: string, event: Record<string, unknown>, ctx: CallbackContext): Routed | Promise<Routed> | AckWait {
  const { registry, options } = state
  let pending: Array<Promise<unknown>> | undefined // allocated when a listener is async
  // Bodies that failed their schema too (ctx.valid === false): a typed listener must not lose real
  // traffic. Only catalogued commands have listeners (on() refuses others).
  const listeners = registry.listeners.get(command)
  if (listeners !== undefined) {
    for (const fn of listeners) {
      const p = invoke(state, fn, event, ctx, command)
      if (p !== undefined) (pending ??= []).push(p)
    }
  }
  let ackFailure: string | undefined
  let acksPending = 0
  let wait: AckWait | undefined // acknowledgements that call back (thenables other than native promises)
  for (const listener of registry.anyListeners) {
    if (listener.acknowledge) {
      // Its result awaited directly (no async wrapper): a promise less per callback on serve's recording path.
      let result: unknown
      try {
        result = listener.fn(event, ctx)
      } catch (err) {
        ackFailure ??= errorText(err ?? new Error('threw without a reason'))
        continue
      }
      if (!isThenable(result)) continue
      if (!(result instanceof Promise)) {
        ;(wait ??= new AckWait(state, ctx)).watch(result)
        continue
      }
      acksPending++
      ;(pending ??= []).push(
        Promise.resolve(result).then(
          () => {
            acksPending--
          },
          (err: unknown) => {
            acksPending--
            ackFailure ??= errorText(err ?? new Error('rejected without a reason'))
          },
        ),
      )
    } else {
      const p = invoke(state, listener.fn, event, ctx, 'onAny')
      if (p !== undefined) (pending ??= []).push(p)
    }
  }
  if (wait !== undefined) {
    if (ackFailure !== undefined) wait.failure ??= ackFailure
    // Settled already (they called back at once): nothing to wait for.
    if (wait.remaining === 0) {
      ackFailure = wait.failure
      wait = undefined
    } else if (pending === undefined) {
      wait.start()
      return wait
    } else pending.push(wait.settled())
  }
  if (pending === undefined) return ackFailure === undefined ? ALLOWED : ackFailed(state, ackFailure, ctx)
  const all = pending.length === 1 ? pending[0]! : Promise.all(pending)
  const waited = wait
  return runWithDeadline(() => all, state.deadlines).then((timed) => {
    if (waited !== undefined) {
      ackFailure ??= waited.failure
      acksPending += waited.remaining
    }
    if (timed.kind === 'late') {
      if (acksPending > 0) ackFailure ??= `did not finish within ${options.deadlineMs} ms`
      else
        report(
          state,
          new TimhookError('TIMHOOK_DEADLINE_EXCEEDED', `the ${command} listeners`, options.deadlineMs, 'answered OK; they keep running'),
          ctx,
        )
    }
    return ackFailure === undefined ? ALLOWED : ackFailed(state, ackFailure, ctx)
  })
}

/**
 * Waits for acknowledgements that are thenables but not native promises (`timhook serve`'s
 * recorder answers with one that calls back from the store's commit): each `then` is called once,
 * at once, with two callbacks, and the answer follows the last of them, or the deadline — plain
 * callbacks and the shared deadline timer, where a promise chain cost several promises and
 * microtask turns per callback. A thenable that calls back more than once counts once; one whose
 * `then` throws, or that is fulfilled with itself, fails the acknowledgement. The answer is given
 * exactly once (see answer()).
 */
class AckWait {
  /** Acknowledgements not settled yet. */
  remaining = 0
  /** The first failure's text. */
  failure: string | undefined
  private deadline: ReturnType<Deadlines['add']> | undefined
  /** Waiting: set by start() (the answer) or settled() (a promise beside other listeners'). */
  private waiting = false
  private ended = false
  private onSettled: (() => void) | undefined
  /** What the answer needs, given by answerWith(). */
  private done: ((response: ReceiverResponse, request: RawRequest) => void) | undefined
  private request: RawRequest | undefined
  private event: Record<string, unknown> | undefined
  private started = 0

  constructor(
    private readonly state: State,
    private readonly ctx: CallbackContext,
  ) {}

  watch(thenable: PromiseLike<unknown>): void {
    this.remaining++
    let called = false
    try {
      thenable.then(
        (v: unknown) => {
          if (called) return
          called = true
          // Fulfilled with another thenable (`ok(db.save(e))`): done only once that one is, as a promise would adopt it.
          let inner: boolean
          try {
            inner = isThenable(v)
          } catch (err) {
            this.failure ??= errorText(err ?? new Error('threw without a reason'))
            inner = false
          }
          // Fulfilled with itself: a promise rejects that (a chaining cycle); waiting would never end.
          if (inner && v === thenable) {
            this.failure ??= 'the acknowledgement was fulfilled with itself'
            inner = false
          }
          if (inner) this.watch(v as PromiseLike<unknown>)
          this.settleOne()
        },
        (err: unknown) => {
          if (called) return
          called = true
          this.failure ??= errorText(err ?? new Error('rejected without a reason'))
          this.settleOne()
        },
      )
    } catch (err) {
      if (called) return
      called = true
      this.failure ??= errorText(err ?? new Error('threw without a reason'))
      this.settleOne()
    }
  }

  /** Starts the deadline: the answer follows the last acknowledgement or the deadline, whichever comes first. */
  start(): void {
    this.waiting = true
    this.deadline = this.state.deadlines.add(this.late)
  }

  /** Calls `done` once with the answer (after start()). */
  answerWith(
    done: (response: ReceiverResponse, request: RawRequest) => void,
    request: RawRequest,
    event: Record<string, unknown>,
    started: number,
  ): void {
    this.done = done
    this.request = request
    this.event = event
    this.started = started
    if (this.ended) this.answer()
  }

  /** Resolves once every acknowledgement settled, for a callback that waits for other listeners' promises too (their deadline covers it). */
  settled(): Promise<void> {
    this.waiting = true
    return new Promise((resolve) => (this.onSettled = resolve))
  }

  private settleOne(): void {
    if (--this.remaining === 0 && this.waiting) this.end()
  }

  private readonly late = (): void => {
    if (this.remaining > 0) this.failure ??= `did not finish within ${this.state.options.deadlineMs} ms`
    this.end()
  }

  private end(): void {
    if (this.ended) return
    this.ended = true
    if (this.onSettled !== undefined) return this.onSettled()
    if (this.deadline !== undefined) this.state.deadlines.settle(this.deadline)
    if (this.done !== undefined) this.answer()
  }

  /**
   * Answers once. Runs inside the last acknowledgement's callback (the store's commit report) or the
   * shared deadline timer: nothing here throws into their code (finish() never throws, deliver()
   * catches the continuation's throw), which would leave this request unanswered until the server's timeout.
   */
  private answer(): void {
    const { state, ctx, event, started } = this
    const failure = this.failure
    const routed = failure === undefined ? ALLOWED : ackFailed(state, failure, ctx)
    deliver(state, this.done!, finish(state, routed, ctx.requestId, ctx.command, event, ctx, started), this.request!, ctx.requestId)
  }
}

function ackFailed(state: State, cause: string, ctx: CallbackContext): Routed {
  const error = new TimhookError('TIMHOOK_ACK_FAILED', cause)
  report(state, error, ctx)
  return { response: failResponse(error), verdict: undefined, fallback: false, errorCode: error.code }
}

const isThenable = (v: unknown): v is PromiseLike<unknown> =>
  v instanceof Promise || (typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function')

/**
 * Runs a listener; a throw or rejection goes to onError. Returns a promise only for async listeners.
 * Takes the listener and its arguments rather than a closure over them: one allocation less per listener and callback.
 */
function invoke(
  state: State,
  fn: (event: Record<string, unknown>, ctx: CallbackContext) => unknown,
  event: Record<string, unknown>,
  ctx: CallbackContext,
  label: string,
): Promise<unknown> | undefined {
  let result: unknown
  try {
    result = fn(event, ctx)
  } catch (err) {
    report(state, new TimhookError('TIMHOOK_HANDLER_FAILED', label, errorText(err)), ctx)
    return undefined
  }
  if (!(result instanceof Promise)) return undefined
  return result.then(
    () => true,
    (err: unknown) => {
      report(state, new TimhookError('TIMHOOK_HANDLER_FAILED', label, errorText(err)), ctx)
      return false
    },
  )
}

function report(state: State, error: TimhookError, ctx: CallbackContext | undefined, requestId = ctx?.requestId): void {
  const { registry, options } = state
  const fields = { requestId, code: error.code, command: ctx?.command }
  safely(() => (error.isRejection ? options.logger.warn(fields, error.message) : options.logger.error(fields, error.message)))
  for (const handler of registry.errorHandlers) {
    try {
      handler(error, ctx)
    } catch (err) {
      safely(() => options.logger.error({ requestId, err }, 'onError handler threw'))
    }
  }
}

/** Runs a logging call; a logger that throws (a closed transport) must not turn an answer into a crash. */
function safely(log: () => void): void {
  try {
    log()
  } catch {
    // nothing sensible is left to report to
  }
}

/** The text of a thrown value; never throws itself (`String(Object.create(null))` does). */
function errorText(err: unknown): string {
  try {
    return err instanceof Error ? String(err.message) : String(err)
  } catch {
    try {
      return Object.prototype.toString.call(err)
    } catch {
      return 'an unprintable value'
    }
  }
}

function describe(v: unknown): string {
  if (v === undefined) return 'undefined (did the handler forget to return?)'
  if (v === null) return 'null'
  return typeof v === 'object' ? 'an object that was not built by verdict.*' : `${typeof v} ${String(v).slice(0, 40)}`
}
