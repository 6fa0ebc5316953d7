/** The protocol core: pure, no I/O. Everything here is safe to use from any runtime. */
export * from './commands.js'
export * from './errors.js'
export * from './verdict.js'
export { decodeEvent, isKnownCommand, normalizePlatform, type DecodeResult } from './decode.js'
export { sign, verify, type VerifyOptions, type VerifyResult } from './signature.js'
export { MAX_BODY_DEPTH, nestsDeeperThan, parseJsonObject } from './parse-json.js'
export {
  idempotencyKey,
  beforeSendMessageKey,
  beforeSendEventKey,
  groupSendKey,
  groupMessageKey,
  c2cMessageKey,
} from './idempotency-key.js'
export { KNOWN_ELEMENT_TYPES } from './schemas/elements.js'
export { isElement, textOf, type ElementTypeMap } from './msg-body.js'
export type * from './generated/events.js'
