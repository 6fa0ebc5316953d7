import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url))

/**
 * Removes `//` comments that are outside JSON strings. The documentation's examples carry them
 * (`"Random": 123456, // 乱数`), and the fixtures are kept verbatim.
 */
export function stripComments(text: string): string {
  let out = ''
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!
    if (inString) {
      out += ch
      if (ch === '\\') out += text[++i] ?? ''
      else if (ch === '"') inString = false
    } else if (ch === '"') {
      inString = true
      out += ch
    } else if (ch === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++
      out += '\n'
    } else {
      out += ch
    }
  }
  return out
}

/** Every fixture under test/fixtures/<dir>, parsed after stripping comments. */
export function loadFixtures(dir: string): Array<{ name: string; text: string; json: Record<string, unknown> }> {
  const base = FIXTURES + dir + '/'
  return readdirSync(base)
    .filter((f) => f.endsWith('.jsonc'))
    .sort()
    .map((name) => {
      const text = readFileSync(base + name, 'utf8')
      return { name, text, json: JSON.parse(stripComments(text)) as Record<string, unknown> }
    })
}
