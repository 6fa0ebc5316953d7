/** The receiver: raw request parts in, Tencent's answer out (verify → decode → route → answer). */
export { createReceiver, type Receiver, type Decider, type Listener, type HandlerFor, type OnAnyOptions } from './create-receiver.js'
export type { ReceiverOptions } from './options.js'
export type { CallbackContext, CallbackMeta } from './context.js'
export type { RawRequest } from './handle-request.js'
export type { AnswerOutcome } from './registry.js'
export type { ReceiverResponse } from './answer.js'
export type { Logger } from './logger.js'
