import { TimhookError } from './errors.js'

/**
 * Parses a callback body: a JSON object, refusing `__proto__` and `constructor` keys at any
 * depth (prototype poisoning, as fastify's secure-json-parse does). The key scan only runs when
 * the text contains one of those words or a `\u` escape (substring searches decide), so ordinary
 * bodies cost one `JSON.parse`.
 * @throws TimhookError TIMHOOK_BODY_EMPTY, TIMHOOK_BODY_INVALID_JSON, TIMHOOK_BODY_NOT_OBJECT, TIMHOOK_BODY_FORBIDDEN_KEY
 */
export function parseJsonObject(text: string): Record<string, unknown> {
  if (text.trim() === '') throw new TimhookError('TIMHOOK_BODY_EMPTY')
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
