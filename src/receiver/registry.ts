import type { TimhookError } from '../protocol/errors.js'
import type { Verdict } from '../protocol/verdict.js'
import type { CallbackContext } from './context.js'
import type { AnswerOutcome } from './handle-request.js'

type Body = Record<string, unknown>

export type AnyDecider = (event: Body, ctx: CallbackContext) => Verdict | Promise<Verdict>
export type AnyListener = (event: Body, ctx: CallbackContext) => unknown
export type ErrorHandler = (error: TimhookError, ctx: CallbackContext | undefined) => void
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
