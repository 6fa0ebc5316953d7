/**
 * Tolerant decoding of a parsed callback body into its typed event:
 * numeric strings become numbers, uint32 fields accept values up to 4294967295, unknown fields
 * and unknown `MsgType` elements are kept, and `TopicId: ""` is the same as no topic.
 */
import type { CommandEventMap, KnownCommand } from './generated/events.js'
import { validators } from './generated/validators.js'
import { commandSchemas } from './schemas/index.js'

interface CompiledValidator {
  (data: unknown): boolean
  errors?: Array<{ instancePath: string; message?: string; params?: Record<string, unknown> }> | null
}

const compiled = validators as unknown as Record<string, CompiledValidator>

export type DecodeResult<C extends string> =
  | { ok: true; event: C extends KnownCommand ? CommandEventMap[C] : Record<string, unknown>; known: boolean }
  | { ok: false; problem: string }

type Scalar = 'string' | 'integer' | 'number'

// The top-level scalar fields of each command, from the schema source. Ajv's coercion would turn
// null or true into 0 / "" / 1 and "0x10" into 16; the protocol only sends numbers and numeric
// strings, so those are refused before Ajv sees them.
const scalarFields = new Map<string, Array<[string, Scalar]>>(
  commandSchemas.map((c) => [
    c.command,
    Object.entries(c.fields).flatMap(([name, f]) => {
      const type = ('schema' in f && 'required' in f ? f.schema : f).type
      return type === 'string' || type === 'integer' || type === 'number' ? [[name, type] as [string, Scalar]] : []
    }),
  ]),
)

const INTEGER_TEXT = /^-?\d{1,16}$/
const NUMBER_TEXT = /^-?\d{1,16}(?:\.\d+)?$/

function scalarProblem(path: string, type: Scalar, v: unknown): string | undefined {
  if (v === undefined) return undefined
  if (v === null || typeof v === 'boolean' || typeof v === 'object') {
    return `${path} must be ${type === 'string' ? 'a string' : 'a number or a numeric string'}, got ${v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : String(v)}`
  }
  if (type !== 'string' && typeof v === 'string' && !(type === 'integer' ? INTEGER_TEXT : NUMBER_TEXT).test(v)) {
    return `${path} must be ${type === 'integer' ? 'an integer' : 'a number'} or its decimal digits, got ${JSON.stringify(v.slice(0, 24))}`
  }
  return undefined
}

function precheck(command: string, body: Record<string, unknown>): string | undefined {
  const fields = scalarFields.get(command)
  if (fields !== undefined) {
    for (let i = 0; i < fields.length; i++) {
      const [name, type] = fields[i]!
      const v = body[name]
      // A number, or a string where a string is wanted, needs no closer look (nearly every field).
      if (v === undefined || typeof v === 'number' || (type === 'string' && typeof v === 'string')) continue
      const problem = scalarProblem(name, type, v)
      if (problem !== undefined) return problem
    }
  }
  const list = body.MsgSeqList
  if (Array.isArray(list)) {
    for (let i = 0; i < list.length; i++) {
      const item = list[i] as unknown
      const problem =
        item !== null && typeof item === 'object'
          ? scalarProblem(`MsgSeqList.${i}.MsgSeq`, 'integer', (item as Record<string, unknown>).MsgSeq)
          : undefined
      if (problem !== undefined) return problem
    }
  }
  return undefined
}

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
  // Own properties only: a command named "constructor" or "__proto__" is unknown, not Object.prototype's.
  const validate = Object.hasOwn(compiled, command) ? compiled[command] : undefined
  if (validate === undefined) return { ok: true, event: body as never, known: false }
  const problem = precheck(command, body)
  if (problem !== undefined) return { ok: false, problem }
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

const PLATFORMS: ReadonlyMap<string, string> = new Map(
  Object.entries({
    restapi: 'RESTAPI',
    web: 'Web',
    android: 'Android',
    ios: 'iOS',
    windows: 'Windows',
    mac: 'Mac',
    macos: 'Mac',
    ipad: 'iPad',
    unknown: 'Unknown',
  }),
)

/**
 * Normalises `OptPlatform`: Tencent sends `IOS` in `State.StateChange` and `iOS` elsewhere,
 * and `macOS` on some pages; known values map to one spelling, others pass through.
 * @example normalizePlatform('IOS') // 'iOS'
 */
export function normalizePlatform(value: string | undefined | null): string | undefined {
  if (value == null || value === '') return undefined
  // Nearly every callback carries a value already spelled as it should be: no lower-cased copy then.
  const spelled = SPELLED.get(value)
  if (spelled !== undefined) return spelled
  // A Map, not an object: `OptPlatform=constructor` must not find Object.prototype's.
  return PLATFORMS.get(value.toLowerCase()) ?? value
}

// Each spelling that needs no change, mapped to itself (the catalogue's string, so later lookups hash nothing new).
const SPELLED = new Map([...PLATFORMS.values()].map((v) => [v, v]))
