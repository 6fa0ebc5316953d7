/**
 * A tiny vocabulary for writing the callback schemas. Every helper returns plain JSON Schema
 * (draft-07, the dialect Ajv compiles), so the schema files are the single source from which
 * `scripts/generate.ts` emits both the TypeScript types and the compiled validators.
 *
 * Only `tsType` is ours: an annotation that tells the type emitter to print a given type
 * instead of deriving one (used for literal command names and the element union).
 */
export interface Schema {
  type?: 'string' | 'integer' | 'number' | 'boolean' | 'object' | 'array'
  description?: string
  title?: string
  const?: string | number
  enum?: ReadonlyArray<string | number>
  minimum?: number
  maximum?: number
  items?: Schema
  properties?: Record<string, Schema>
  required?: string[]
  additionalProperties?: boolean | Schema
  $ref?: string
  allOf?: Schema[]
  if?: Schema
  then?: Schema
  tsType?: string
}

/** A field is a schema plus whether the event is meaningless without it. */
export interface Field {
  schema: Schema
  required: boolean
}

const d = (description?: string) => (description === undefined ? {} : { description })

export const str = (description?: string): Schema => ({ type: 'string', ...d(description) })
/** Any integer. Numeric strings are accepted and converted (Tencent sends both). */
export const int = (description?: string): Schema => ({ type: 'integer', ...d(description) })
/** An unsigned 32-bit integer: `MsgSeq`, `Random`, `MsgRandom` exceed 2^31 in practice. */
export const uint32 = (description?: string): Schema => ({
  type: 'integer',
  minimum: 0,
  maximum: 4294967295,
  ...d(description),
})
/** Milliseconds since the epoch; a number or a numeric string on the wire. */
export const millis = (description = 'event time, milliseconds since the epoch'): Schema => int(description)
export const num = (description?: string): Schema => ({ type: 'number', ...d(description) })
export const bool = (description?: string): Schema => ({ type: 'boolean', ...d(description) })
export const arr = (items: Schema, description?: string): Schema => ({ type: 'array', items, ...d(description) })
export const ref = (name: string): Schema => ({ $ref: `#/definitions/${name}` })
/** A free-form object whose fields are not documented. */
export const anyObject = (description?: string): Schema => ({ type: 'object', ...d(description) })

/** Marks a field as one the event cannot do without. */
export const req = (schema: Schema): Field => ({ schema, required: true })
const opt = (schema: Schema): Field => ({ schema, required: false })

/**
 * An object whose listed fields are typed; unknown fields are always allowed and kept.
 * Fields given as a plain schema are optional; wrap with `req()` for required ones.
 */
export function obj(fields: Record<string, Schema | Field>, extra: Partial<Schema> = {}): Schema {
  const properties: Record<string, Schema> = {}
  const required: string[] = []
  for (const [name, f] of Object.entries(fields)) {
    const field = 'schema' in f && 'required' in f ? (f as Field) : opt(f as Schema)
    properties[name] = field.schema
    if (field.required) required.push(name)
  }
  return { type: 'object', properties, ...(required.length > 0 ? { required } : {}), ...extra }
}

/** The documentation of one callback command: its fields and where they come from. */
export interface CommandSchema {
  command: string
  /** The TypeScript name of the event type, e.g. `GroupBeforeSendMsgEvent`. */
  typeName: string
  description: string
  /** Documentation page(s) the fields come from. */
  source: string
  fields: Record<string, Schema | Field>
}

/** Declares the schema of one command. `CallbackCommand` is added as a required literal. */
export function defineCommand(def: CommandSchema): CommandSchema {
  return def
}

/** The conventional type name for a command: `Group.CallbackBeforeSendMsg` → `GroupCallbackBeforeSendMsgEvent`. */
export function typeNameOf(command: string): string {
  return command.replace(/[^A-Za-z0-9]/g, '') + 'Event'
}
