import { commandInfo, isBeforeCommand } from '../protocol/commands.js'
import { TimhookError } from '../protocol/errors.js'
import type { BeforeCommand, CommandEventMap, KnownCommand } from '../protocol/generated/events.js'
import type { Verdict } from '../protocol/verdict.js'
import type { ReceiverResponse } from './answer.js'
import type { CallbackContext } from './context.js'
import { handleRequest, type RawRequest } from './handle-request.js'
import { resolveOptions, type ReceiverOptions } from './options.js'
import { createRegistry, type AnswerListener, type AnyDecider, type AnyListener, type ErrorHandler } from './registry.js'
import { Deadlines } from './run-with-deadline.js'

type AfterCommand = Exclude<KnownCommand, BeforeCommand>

/**
 * The decision handler of a before-event: return a verdict, in time. It also gets bodies that miss
 * the schema (default mode), with `ctx.valid === false`: the event's fields are then not guaranteed.
 */
export type Decider<C extends BeforeCommand> = (event: CommandEventMap[C], ctx: CallbackContext) => Verdict | Promise<Verdict>
/**
 * A listener of an after-event: its return value is ignored; a throw reaches `onError`. It also
 * gets bodies that miss the schema (default mode), with `ctx.valid === false`: the event's fields
 * are then not guaranteed.
 */
export type Listener<C extends KnownCommand> = (event: CommandEventMap[C], ctx: CallbackContext) => unknown
/** The handler type for a command (or a list of commands that are all before-events, or all after-events). */
export type HandlerFor<C extends KnownCommand> = [C] extends [BeforeCommand] ? Decider<C> : [C] extends [AfterCommand] ? Listener<C> : never

export interface OnAnyOptions {
  /**
   * The answer to an after-event (or unknown command) waits for this listener, and is a
   * 503 FAIL (`TIMHOOK_ACK_FAILED`) instead of OK when it throws — so "200" can mean "stored".
   * Before-event answers never wait for onAny listeners.
   */
  acknowledge?: boolean | undefined
}

export interface Receiver {
  /**
   * Routes a command (or several) to a handler, typed by command. A before-event has exactly one
   * decision handler, which returns a verdict; after-events may have many listeners.
   * @example
   * receiver.on('Group.CallbackBeforeSendMsg', (e) => (hasBadWord(e.MsgBody) ? verdict.deny() : verdict.allow()))
   * receiver.on('Group.CallbackAfterRecallMsg', async (e) => markRecalled(e.GroupId, e.MsgSeqList))
   */
  on<C extends KnownCommand>(command: C | ReadonlyArray<C>, handler: HandlerFor<C>): Receiver
  /** Sees every accepted callback, including unknown commands and bodies that failed their schema (`ctx.valid`). */
  onAny(listener: (event: Record<string, unknown>, ctx: CallbackContext) => unknown, options?: OnAnyOptions): Receiver
  /** Failures (handler errors, deadlines, invalid verdicts) and rejections (`error.isRejection`). */
  onError(handler: ErrorHandler): Receiver
  /** Called once per request with its outcome, after the answer is built; not waited for. For metrics and audit. */
  onAnswer(listener: AnswerListener): Receiver
  /**
   * The core, and the one call path of every adapter (`toNodeHandler`, `toFetchHandler`,
   * `timhook/fastify`): raw request parts in, `{ status, headers, body }` out. Never throws and
   * never rejects. The answer is synchronous when every handler involved is synchronous (no promise
   * on the common path); `await` it either way.
   */
  handle(request: RawRequest): ReceiverResponse | Promise<ReceiverResponse>
  /**
   * `handle()` without a promise, for adapters on a hot path (`toNodeHandler` uses it): returns
   * the answer when it is ready at once (and never calls `done` then); otherwise returns undefined
   * and calls `done` once with the answer and the same request object (so one function can serve
   * every request: no closure per request). An after-event whose acknowledging listener returns a
   * callback-style thenable (not a native promise) is answered through plain callbacks.
   */
  handleWith<R extends RawRequest>(request: R, done: (response: ReceiverResponse, request: R) => void): ReceiverResponse | undefined
  /** The resolved body limit, in bytes (adapters enforce it while reading). */
  readonly bodyLimit: number
}

/**
 * Creates a receiver for Tencent Cloud IM callbacks.
 * @example
 * import http from 'node:http'
 * import { createReceiver, toNodeHandler, verdict } from 'timhook'
 * const receiver = createReceiver({ sdkAppId: 1400000000, token: process.env.TIM_CALLBACK_TOKEN })
 * receiver.on('Group.CallbackBeforeSendMsg', (e) => verdict.allow())
 * http.createServer(toNodeHandler(receiver)).listen(8080)
 */
export function createReceiver(options: ReceiverOptions): Receiver {
  const resolved = resolveOptions(options)
  const registry = createRegistry()
  const state = { options: resolved, registry, deadlines: new Deadlines(resolved.deadlineMs) }

  const receiver: Receiver = {
    on(command, handler) {
      const commands: ReadonlyArray<string> = typeof command === 'string' ? [command] : command
      if (typeof handler !== 'function') throw new TimhookError('TIMHOOK_CONFIG_INVALID', 'handler', 'must be a function')
      // Check the whole list first: a refused call registers nothing.
      for (const c of commands) {
        if (commandInfo(c) === undefined) {
          throw new TimhookError(
            'TIMHOOK_CONFIG_INVALID',
            `on(${JSON.stringify(c)})`,
            'not a known CallbackCommand; use onAny() to observe commands timhook does not know',
          )
        }
        if (isBeforeCommand(c) && registry.deciders.has(c)) throw new TimhookError('TIMHOOK_DUPLICATE_DECIDER', c)
      }
      if (new Set(commands).size !== commands.length) throw new TimhookError('TIMHOOK_CONFIG_INVALID', 'on()', 'a command is listed twice')
      for (const c of commands) {
        if (isBeforeCommand(c)) {
          registry.deciders.set(c, handler as unknown as AnyDecider)
        } else {
          const list = registry.listeners.get(c) ?? []
          list.push(handler as unknown as AnyListener)
          registry.listeners.set(c, list)
        }
      }
      return receiver
    },
    onAny(listener, opts) {
      registry.anyListeners.push({ fn: listener, acknowledge: opts?.acknowledge === true })
      return receiver
    },
    onError(handler) {
      registry.errorHandlers.push(handler)
      return receiver
    },
    onAnswer(listener) {
      registry.answerListeners.push(listener)
      return receiver
    },
    handle: (request: RawRequest) => handleRequest(state, request),
    handleWith: (request, done) => handleRequest(state, request, done),
    bodyLimit: resolved.bodyLimit,
  }
  return receiver
}
