import { TimhookError } from './errors.js'

/**
 * The deepest nesting of arrays and objects a callback body may have (the body object itself is
 * level 1). Tencent's deepest documented payload is a merged-forward message (`TIMRelayElem`)
 * holding merged-forward messages: each such level adds 5 (`MsgContent`, `MsgList`, its item,
 * `MsgBody`, the element), and the inline `MsgList` is limited to 12 KB, which holds at most ~65
 * levels of the smallest relay element (~190 bytes): depth ~330. 512 leaves room above that, and
 * stays far below what recursive code (JSON.stringify, schema validation, structured clone)
 * survives on a default stack (thousands of levels).
 */
export const MAX_BODY_DEPTH = 512

/**
 * True when a JSON text nests arrays and objects deeper than `max`, found by scanning the text
 * (brackets inside strings do not count), so that nothing recurses over a body before it is
 * refused. Text with no more than `max` opening brackets anywhere cannot be deeper: two substring
 * searches decide that for nearly every body, and only bracket-heavy text is scanned character by character.
 * @example nestsDeeperThan('[[[1]]]', 2) // true
 */
export function nestsDeeperThan(text: string, max: number): boolean {
  if (text.length <= 2 * max) return false
  let opens = 0
  for (let i = text.indexOf('{'); i !== -1 && opens <= max; i = text.indexOf('{', i + 1)) opens++
  for (let i = text.indexOf('['); i !== -1 && opens <= max; i = text.indexOf('[', i + 1)) opens++
  if (opens <= max) return false
  let depth = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 0x22) {
      // A string: skip to its closing quote, past escaped characters.
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i)
        if (d === 0x5c) i++
        else if (d === 0x22) break
      }
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true
    } else if (c === 0x7d || c === 0x5d) depth--
  }
  return false
}

/**
 * Parses a callback body: a JSON object no deeper than `MAX_BODY_DEPTH`, refusing `__proto__` and
 * `constructor` keys at any depth (prototype poisoning, as fastify's secure-json-parse does). The
 * key scan only runs when the text contains one of those words or a `\u` escape (substring
 * searches decide), so ordinary bodies cost one `JSON.parse` and the depth check's two searches.
 * @throws TimhookError TIMHOOK_BODY_EMPTY, TIMHOOK_BODY_TOO_DEEP, TIMHOOK_BODY_INVALID_JSON, TIMHOOK_BODY_NOT_OBJECT, TIMHOOK_BODY_FORBIDDEN_KEY
 */
export function parseJsonObject(text: string): Record<string, unknown> {
  if (text.trim() === '') throw new TimhookError('TIMHOOK_BODY_EMPTY')
  if (nestsDeeperThan(text, MAX_BODY_DEPTH)) throw new TimhookError('TIMHOOK_BODY_TOO_DEEP', MAX_BODY_DEPTH)
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw new TimhookError('TIMHOOK_BODY_INVALID_JSON', (err as Error).message)
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TimhookError('TIMHOOK_BODY_NOT_OBJECT', value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value)
  }
  // A key can also be spelled with escapes ("\u005f_proto__"), so a body with any \u escape is walked too.
  if (text.includes('__proto__') || text.includes('constructor') || text.includes('\\u')) assertNoForbiddenKeys(value)
  return value as Record<string, unknown>
}

function assertNoForbiddenKeys(root: unknown): void {
  const stack: unknown[] = [root]
  while (stack.length > 0) {
    const node = stack.pop()
    if (node === null || typeof node !== 'object') continue
    if (Array.isArray(node)) {
      for (const item of node) stack.push(item)
      continue
    }
    // JSON.parse creates `__proto__` as an own property, so Object.keys sees it.
    for (const key of Object.keys(node)) {
      if (key === '__proto__' || key === 'constructor') throw new TimhookError('TIMHOOK_BODY_FORBIDDEN_KEY', key)
      stack.push((node as Record<string, unknown>)[key])
    }
  }
}
