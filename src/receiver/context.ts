import type { CommandFamily, CommandPhase } from '../protocol/commands.js'

/**
 * The typed part of `ctx.meta`: what handlers leave for `onAnswer` listeners. Empty here; a module
 * that writes a key declares it once by module augmentation (as Hono's `ContextVariableMap`):
 * @example
 * declare module 'timhook' {
 *   interface CallbackMeta { policy?: PolicyDecision }
 * }
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled by module augmentation
export interface CallbackMeta {}

/** What a handler knows about the callback besides the event itself. */
export interface CallbackContext {
  /** From the `x-request-id` header when present, else generated; appears in every log line. */
  readonly requestId: string
  /** `CallbackCommand` from the query (or the body when the query lacks it). */
  readonly command: string
  /** `before` when IM acts on the answer (a decision), `after` when it only notifies; unknown commands are `after`. From the command catalogue. */
  readonly phase: CommandPhase
  /** `group` or `c2c` for the message families' commands, `other` for the rest and for unknown commands. From the command catalogue. */
  readonly family: CommandFamily
  /** The SdkAppid the request was addressed to. */
  readonly sdkAppId: string
  /** `ClientIP`: the IP of the client that caused the event, when Tencent sends it. */
  readonly clientIp: string | undefined
  /** `OptPlatform`, normalised (`IOS` → `iOS`); `RESTAPI` for REST-triggered events. */
  readonly optPlatform: string | undefined
  /** When the request arrived, ms since the epoch. */
  readonly receivedAt: number
  /** The body exactly as received. */
  readonly rawBody: Buffer
  /** True when timhook has a schema for the command. */
  readonly known: boolean
  /**
   * False when the body did not match the command's schema (then `problem` says why). Such a body
   * still reaches `on(command)` in the default mode, typed as its command's event: when `valid` is
   * false that type describes what Tencent documents, not what arrived — a required field may be
   * missing and a field may hold another type. Check `valid` before trusting it, or use `strict`.
   */
  readonly valid: boolean
  /** What differed from the schema, naming the field (`MsgSeq must be …`); undefined when `valid`. */
  readonly problem: string | undefined
  /**
   * Annotations: handlers may record what they decided (e.g. the policy's decision, `meta.policy`)
   * for `onAnswer` listeners. Keys declared in `CallbackMeta` are typed; others are `unknown`.
   */
  readonly meta: CallbackMeta & Record<string, unknown>
}
