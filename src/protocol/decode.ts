/**
 * Tolerant decoding of a parsed callback body into its typed event (product.md "Parse liberally"):
 * numeric strings become numbers, uint32 fields accept values up to 4294967295, unknown fields
 * and unknown `MsgType` elements are kept, and `TopicId: ""` is the same as no topic.
 */
import type { CommandEventMap, KnownCommand } from './generated/events.js'
import { validators } from './generated/validators.js'

interface CompiledValidator {
  (data: unknown): boolean
  errors?: Array<{ instancePath: string; message?: string; params?: Record<string, unknown> }> | null
}

const compiled = validators as unknown as Record<string, CompiledValidator>

export type DecodeResult<C extends string> =
  | { ok: true; event: C extends KnownCommand ? CommandEventMap[C] : Record<string, unknown>; known: boolean }
  | { ok: false; problem: string }

/** True when timhook has a schema for this command. */
export function isKnownCommand(command: string): command is KnownCommand {
  return Object.prototype.hasOwnProperty.call(compiled, command)
}

/**
 * Decodes `body` (already parsed, modified in place) as the event of `command`.
 * Unknown commands decode to the body as is.
 * @example
 * const r = decodeEvent('Group.CallbackAfterRecallMsg', JSON.parse(raw))
 * if (r.ok) r.event.MsgSeqList[0].MsgSeq // a number, even if it arrived as "130"
 */
export function decodeEvent<C extends string>(command: C, body: Record<string, unknown>): DecodeResult<C> {
  if (body.CallbackCommand === undefined) body.CallbackCommand = command
  const validate = compiled[command]
  if (validate === undefined) return { ok: true, event: body as never, known: false }
  if (!validate(body)) return { ok: false, problem: describe(validate.errors) }
  if (body.TopicId === '') delete body.TopicId
  return { ok: true, event: body as never, known: true }
}

function describe(errors: CompiledValidator['errors']): string {
  const e = errors?.[0]
  if (e === undefined) return 'invalid'
  const path = e.instancePath === '' ? 'body' : e.instancePath.slice(1).replace(/\//g, '.')
  const extra = e.params?.missingProperty !== undefined ? ` (${String(e.params.missingProperty)})` : ''
  return `${path} ${e.message ?? 'is invalid'}${extra}`
}

const PLATFORMS: Record<string, string> = {
  restapi: 'RESTAPI',
  web: 'Web',
  android: 'Android',
  ios: 'iOS',
  windows: 'Windows',
  mac: 'Mac',
  macos: 'Mac',
  ipad: 'iPad',
  unknown: 'Unknown',
}

/**
 * Normalises `OptPlatform`: Tencent sends `IOS` in `State.StateChange` and `iOS` elsewhere,
 * and `macOS` on some pages; known values map to one spelling, others pass through.
 * @example normalizePlatform('IOS') // 'iOS'
 */
export function normalizePlatform(value: string | undefined | null): string | undefined {
  if (value == null || value === '') return undefined
  return PLATFORMS[value.toLowerCase()] ?? value
}
