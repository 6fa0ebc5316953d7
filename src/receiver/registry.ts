import type { ErrorCode, TimhookError } from '../protocol/errors.js'
import type { Verdict } from '../protocol/verdict.js'
import type { CallbackContext } from './context.js'

type Body = Record<string, unknown>

export type AnyDecider = (event: Body, ctx: CallbackContext) => Verdict | Promise<Verdict>
export type AnyListener = (event: Body, ctx: CallbackContext) => unknown
export type ErrorHandler = (error: TimhookError, ctx: CallbackContext | undefined) => void

/** What `onAnswer` listeners learn about each request. */
export interface AnswerOutcome {
  requestId: string
  command: string | undefined
  status: number
  /** The catalogue code of a rejection or of the failure that led to a fallback verdict. */
  errorCode: ErrorCode | undefined
  /** The verdict of a before-event (the fallback one when `fallback` is true). */
  verdict: Verdict | undefined
  /** True when the fallback verdict was sent (late, failed, invalid or missing decision on an invalid event). */
  fallback: boolean
  durationMs: number
  event: Record<string, unknown> | undefined
  ctx: CallbackContext | undefined
}

export type AnswerListener = (outcome: AnswerOutcome) => void

/** Who listens to what. Arrays, not sets, so iteration on the hot path is a plain loop. */
export interface Registry {
  deciders: Map<string, AnyDecider>
  listeners: Map<string, AnyListener[]>
  anyListeners: Array<{ fn: AnyListener; acknowledge: boolean }>
  errorHandlers: ErrorHandler[]
  answerListeners: AnswerListener[]
}

export function createRegistry(): Registry {
  return { deciders: new Map(), listeners: new Map(), anyListeners: [], errorHandlers: [], answerListeners: [] }
}
