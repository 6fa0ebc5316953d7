import { createCallbackSender, type CallbackOutcome, type CallbackSender, type SendContext } from '../sender/callback-sender.js'
import type { SentCallback } from './sent-callback.js'
import type { ResolvedEmulatorOptions } from './options.js'
import { C2CStore } from './state/c2c.js'
import { DedupWindow } from './state/dedup-window.js'
import { GroupStore } from './state/groups.js'

/** What a send answered, and whether it stored a message (only stored sends stay in the de-dup window). */
export interface SendAnswer<A> {
  answer: A
  stored: boolean
}

/** Everything a REST handler needs: options, state, and the callback sender. */
export interface EmulatorContext {
  readonly options: ResolvedEmulatorOptions
  readonly groups: GroupStore
  readonly c2c: C2CStore
  /**
   * Group sends by `GroupId|TopicId|Random` → the first send's answer, registered before its
   * before-callback is awaited so a concurrent resend waits for it instead of sending again.
   */
  readonly groupDedup: DedupWindow<Promise<SendAnswer<{ MsgSeq: number; MsgTime: number }>>>
  /** One-to-one sends by sender, MsgSeq, MsgRandom and content → the first send's answer (pending too). */
  readonly c2cDedup: DedupWindow<Promise<SendAnswer<{ MsgTime: number; MsgKey: string }>>>
  /** Sends a callback and waits for its outcome; `undefined` when the command is disabled or no URL is set. */
  callback(command: string, body: Record<string, unknown>, context: SendContext): Promise<CallbackOutcome | undefined>
  /** Sends an after-callback in the background; its answer changes nothing (IM ignores it). */
  notify(command: string, body: Record<string, unknown>, context: SendContext): void
  /** Resolves once no callback is in flight. */
  idle(): Promise<void>
  /** The most recent callbacks, oldest first. */
  callbackLog(): SentCallback[]
  close(): Promise<void>
}

export function createEmulatorContext(options: ResolvedEmulatorOptions): EmulatorContext {
  const sender: CallbackSender | undefined =
    options.callbackUrl === undefined
      ? undefined
      : createCallbackSender({
          url: options.callbackUrl,
          sdkAppId: options.sdkAppId,
          token: options.token,
          timeoutMs: options.timeoutMs,
          connections: options.connections,
          now: options.now,
        })
  const log: SentCallback[] = []
  const inFlight = new Set<Promise<unknown>>()

  function record(entry: SentCallback): void {
    log.push(entry)
    if (log.length > options.callbackLogSize) log.splice(0, log.length - options.callbackLogSize)
  }

  async function callback(command: string, body: Record<string, unknown>, context: SendContext): Promise<CallbackOutcome | undefined> {
    if (sender === undefined || !options.commands.has(command)) return undefined
    // The target is built once: the logged Sign and RequestTime are the ones sent.
    const target = sender.target(command, context)
    const entry: SentCallback = { at: options.now(), command, target, body }
    record(entry)
    const pending = sender.send(target, body)
    inFlight.add(pending)
    try {
      entry.outcome = await pending
      try {
        options.onCallback?.(entry)
      } catch {
        // A logging hook must not change what the emulator does.
      }
      return entry.outcome
    } finally {
      inFlight.delete(pending)
    }
  }

  return {
    options,
    groups: new GroupStore(),
    c2c: new C2CStore(),
    groupDedup: new DedupWindow(options.groupDedupMs, options.now),
    c2cDedup: new DedupWindow(options.c2cDedupMs, options.now),
    callback,
    notify(command, body, context) {
      // send() never rejects; the catch only keeps a bug from becoming an unhandled rejection.
      callback(command, body, context).catch(() => {})
    },
    async idle() {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight])
    },
    callbackLog: () => [...log],
    async close() {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight])
      await sender?.close()
    },
  }
}
