/**
 * The bytes of an allow answer whose `MsgBody` is the received one plus one appended element (a
 * stamp), built from the request's own bytes: the received `MsgBody` text is copied as is, so that
 * nothing is re-serialised and no string is encoded. Used only where the copy is byte for byte
 * what `JSON.stringify` of the answer would write; otherwise the caller serialises as before.
 */
import { isUtf8 } from 'node:buffer'

const PREFIX = Buffer.from('{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"","MsgBody":')

/**
 * `JSON.stringify({ ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '', MsgBody: [...body, element] })`
 * as bytes, where `body` is the parsed `MsgBody` of the JSON object `raw` and `elementJson` is
 * `JSON.stringify(element)` in UTF-8 — or undefined when the received text of `MsgBody` is not
 * what `JSON.stringify(body)` writes: whitespace, an escape other than `\" \\ \b \f \n \r \t`, a
 * number not in its shortest form, a duplicate or reordered key, a value that is not the parsed one
 * (a type coerced by the schema, a string of other text), invalid UTF-8, or a top-level key
 * written with an escape. The walk compares the text with `body` itself, so a body changed after
 * parsing is not copied unless the change left it equal to the text.
 * @example appendedAnswer(Buffer.from('{"MsgBody":[]}'), [], Buffer.from('{"MsgType":"TIMCustomElem"}'))
 */
export function appendedAnswer(raw: Uint8Array, body: readonly unknown[], elementJson: Uint8Array): Buffer | undefined {
  const span = topLevelMember(raw, MSG_BODY)
  if (span === undefined) return undefined
  const [start, end] = span
  const buf = Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength)
  if (walk(buf, start, body) !== end) return undefined
  if (!isUtf8(raw.subarray(start, end))) return undefined
  const empty = end - start === 2
  const out = Buffer.allocUnsafe(PREFIX.length + (end - start - 1) + (empty ? 0 : 1) + elementJson.length + 2)
  let at = PREFIX.copy(out, 0)
  out.set(raw.subarray(start, end - 1), at)
  at += end - start - 1
  if (!empty) out[at++] = 0x2c // ,
  out.set(elementJson, at)
  at += elementJson.length
  out[at++] = 0x5d // ]
  out[at++] = 0x7d // }
  return out
}

const MSG_BODY = [...'MsgBody'].map((c) => c.charCodeAt(0))

const isSpace = (c: number | undefined) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09

function skipSpace(raw: Uint8Array, i: number): number {
  while (isSpace(raw[i])) i++
  return i
}

/** The index after the string whose opening quote is at `i`, or -1. */
function skipString(raw: Uint8Array, i: number): number {
  for (i++; i < raw.length; i++) {
    const c = raw[i]
    if (c === 0x5c) i++
    else if (c === 0x22) return i + 1
  }
  return -1
}

/** The index after the value that starts at `i` (any JSON value, not checked), or -1. */
function skipValue(raw: Uint8Array, i: number): number {
  const c = raw[i]
  if (c === 0x22) return skipString(raw, i)
  if (c === 0x7b || c === 0x5b) {
    let depth = 0
    for (; i < raw.length; i++) {
      const d = raw[i]
      if (d === 0x22) {
        i = skipString(raw, i)
        if (i === -1) return -1
        i--
      } else if (d === 0x7b || d === 0x5b) depth++
      else if (d === 0x7d || d === 0x5d) {
        if (--depth === 0) return i + 1
      }
    }
    return -1
  }
  for (; i < raw.length; i++) {
    const d = raw[i]
    if (d === 0x2c || d === 0x7d || d === 0x5d || isSpace(d)) return i
  }
  return i
}

/** [start, end) of the value of the top-level key `name` (written without escapes, once), or undefined. */
function topLevelMember(raw: Uint8Array, name: readonly number[]): [number, number] | undefined {
  let i = skipSpace(raw, 0)
  if (raw[i] !== 0x7b) return undefined
  i = skipSpace(raw, i + 1)
  if (raw[i] === 0x7d) return undefined
  let found: [number, number] | undefined
  for (;;) {
    if (raw[i] !== 0x22) return undefined
    const keyStart = i + 1
    const keyEnd = skipString(raw, i) - 1
    if (keyEnd < 0) return undefined
    let same = keyEnd - keyStart === name.length
    for (let k = keyStart; k < keyEnd; k++) {
      // An escaped key might be "MsgBody" once parsed: the text cannot say which member the parse kept.
      if (raw[k] === 0x5c) return undefined
      if (same && raw[k] !== name[k - keyStart]) same = false
    }
    i = skipSpace(raw, keyEnd + 1)
    if (raw[i] !== 0x3a) return undefined
    i = skipSpace(raw, i + 1)
    const valueStart = i
    i = skipValue(raw, i)
    if (i === -1) return undefined
    if (same) {
      if (found !== undefined) return undefined // a repeated key: the parse kept the last
      found = [valueStart, i]
    }
    i = skipSpace(raw, i)
    if (raw[i] === 0x2c) i = skipSpace(raw, i + 1)
    else if (raw[i] === 0x7d) return found
    else return undefined
  }
}

// The escapes JSON.stringify writes: \" \\ \b \f \n \r \t (it writes \u only for other control characters and lone surrogates).
const SHORT_ESCAPES = new Set([0x22, 0x5c, 0x62, 0x66, 0x6e, 0x72, 0x74])

/**
 * Walks the text at `i` alongside `value`: returns the index after it when the text is exactly
 * what `JSON.stringify(value)` writes (types, keys, numbers and each string's characters), else -1.
 */
function walk(raw: Buffer, i: number, value: unknown): number {
  const c = raw[i]
  if (c === 0x22) {
    if (typeof value !== 'string') return -1
    // UTF-16 units the text decodes to, to compare with the parsed string's length.
    let units = 0
    let escaped = false
    const start = i + 1
    for (i++; i < raw.length; i++) {
      const d = raw[i]!
      if (d === 0x22) {
        if (units !== value.length) return -1
        // Same length is not same text: a listener may have replaced characters in place (a number masked with `*`).
        const text = raw.toString('utf8', start, i)
        return (escaped ? JSON.stringify(value) === `"${text}"` : text === value) ? i + 1 : -1
      }
      if (d === 0x5c) {
        if (!SHORT_ESCAPES.has(raw[++i]!)) return -1
        escaped = true
        units++
      } else if (d < 0x20) return -1
      else if (d < 0x80 || (d >= 0xc0 && d < 0xf0)) units++
      else if (d >= 0xf0) units += 2
    }
    return -1
  }
  if (c === 0x5b) {
    if (!Array.isArray(value)) return -1
    i++
    if (raw[i] === 0x5d) return value.length === 0 ? i + 1 : -1
    for (let k = 0; ; k++) {
      if (k >= value.length) return -1
      i = walk(raw, i, value[k])
      if (i === -1) return -1
      if (raw[i] === 0x2c) i++
      else if (raw[i] === 0x5d) return k === value.length - 1 ? i + 1 : -1
      else return -1
    }
  }
  if (c === 0x7b) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return -1
    const keys = Object.keys(value)
    i++
    if (raw[i] === 0x7d) return keys.length === 0 ? i + 1 : -1
    for (let k = 0; ; k++) {
      const key = keys[k]
      if (key === undefined || raw[i] !== 0x22) return -1
      // Keys are compared byte for byte with the parsed ones, in order: plain ASCII keys only.
      i++
      for (let j = 0; j < key.length; j++, i++) {
        const d = raw[i]!
        if (d !== key.charCodeAt(j) || d >= 0x80 || d === 0x5c || d === 0x22 || d < 0x20) return -1
      }
      if (raw[i] !== 0x22 || raw[i + 1] !== 0x3a) return -1
      i = walk(raw, i + 2, (value as Record<string, unknown>)[key])
      if (i === -1) return -1
      if (raw[i] === 0x2c) i++
      else if (raw[i] === 0x7d) return k === keys.length - 1 ? i + 1 : -1
      else return -1
    }
  }
  // A number, true, false or null: the token must be what JSON.stringify writes for the value.
  let end = i
  while (end < raw.length) {
    const d = raw[end]
    if (d === 0x2c || d === 0x5d || d === 0x7d) break
    end++
  }
  if (end === i) return -1
  const token = Buffer.from(raw.buffer, raw.byteOffset + i, end - i).toString('latin1')
  if (typeof value === 'number') return Number.isFinite(value) && String(value) === token ? end : -1
  if (value === true || value === false || value === null) return String(value) === token ? end : -1
  return -1
}
