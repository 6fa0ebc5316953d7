/**
 * The callback corpus (test/fixtures/callbacks): request bodies from Tencent's callback pages, in
 * every language version found, and requests developers captured and pasted into public code.
 * One JSON file per example: `{ command, source, fixes, body }`.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { FIXTURES } from './fixtures.js'

export type CorpusSource =
  | { kind: 'page'; url: string | null; language: string; pageDate: string | null; copy?: string }
  | { kind: 'capture'; repository: string | null; path: string | null; note: string }

export interface CorpusExample {
  file: string
  command: string
  source: CorpusSource
  /** The doc artefacts removed or repaired (comments, a missing quote), one line each. */
  fixes: string[]
  body: Record<string, unknown>
}

const DIR = FIXTURES + 'callbacks/'

/** Every example, sorted by file name; `body` is a fresh copy on each call. */
export function loadCorpus(): CorpusExample[] {
  return readdirSync(DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({ file, ...(JSON.parse(readFileSync(DIR + file, 'utf8')) as Omit<CorpusExample, 'file'>) }))
}

/** The examples grouped by command. */
export function corpusByCommand(corpus = loadCorpus()): Map<string, CorpusExample[]> {
  const by = new Map<string, CorpusExample[]>()
  for (const e of corpus) by.set(e.command, [...(by.get(e.command) ?? []), e])
  return by
}

/** The top-level fields every example of a command has. */
export function fieldsInEvery(examples: readonly CorpusExample[]): Set<string> {
  const [first, ...rest] = examples
  const common = new Set(Object.keys(first?.body ?? {}))
  for (const e of rest) for (const k of [...common]) if (!(k in e.body)) common.delete(k)
  return common
}

/**
 * Where `got` (what a handler received) differs from `sent` (the body on the wire), other than by
 * the documented coercions: an integer sent as its decimal digits arrives as a number, a number
 * where text is documented arrives as its decimal text, `TopicId: ""` is removed. Returns the
 * paths that differ (empty when none does).
 */
export function differences(sent: unknown, got: unknown, path = 'body'): string[] {
  if (typeof sent === 'string' && typeof got === 'number') return /^-?\d+$/.test(sent) && String(got) === String(Number(sent)) ? [] : [path]
  if (typeof sent === 'number' && typeof got === 'string') return String(sent) === got ? [] : [path]
  if (Array.isArray(sent) || Array.isArray(got)) {
    if (!Array.isArray(sent) || !Array.isArray(got) || sent.length !== got.length) return [path]
    return sent.flatMap((v, i) => differences(v, got[i], `${path}.${i}`))
  }
  if (sent !== null && typeof sent === 'object') {
    if (got === null || typeof got !== 'object') return [path]
    const s = sent as Record<string, unknown>
    const g = got as Record<string, unknown>
    const out: string[] = []
    for (const k of new Set([...Object.keys(s), ...Object.keys(g)])) {
      if (!(k in g)) {
        if (!(k === 'TopicId' && s[k] === '' && path === 'body')) out.push(`${path}.${k} (lost)`)
      } else if (!(k in s)) {
        if (!(k === 'CallbackCommand' && path === 'body')) out.push(`${path}.${k} (added)`)
      } else out.push(...differences(s[k], g[k], `${path}.${k}`))
    }
    return out
  }
  return Object.is(sent, got) ? [] : [path]
}

/**
 * The rows of the corpus table in docs/library.md, one per catalogued command: its examples by
 * language (and captures), the fields its schema requires, and the fields some example lacks.
 */
export function corpusTableRows(
  commands: ReadonlyArray<{ command: string }>,
  requiredOf: (command: string) => string[],
  corpus = loadCorpus(),
): string[] {
  const order = ['zh', 'en', 'ja', 'ko', 'ru', 'capture']
  const code = (names: readonly string[]) => (names.length === 0 ? '—' : names.map((n) => `\`${n}\``).join(', '))
  return commands.map(({ command }) => {
    const examples = corpus.filter((e) => e.command === command)
    const counts = new Map<string, number>()
    for (const e of examples) {
      const k = e.source.kind === 'capture' ? 'capture' : e.source.language
      counts.set(k, (counts.get(k) ?? 0) + 1)
    }
    const sources =
      examples.length === 0
        ? 'none found'
        : order
            .filter((k) => counts.has(k))
            .map((k) => `${k} ${counts.get(k)}`)
            .join(', ')
    const common = fieldsInEvery(examples)
    const absent = [...new Set(examples.flatMap((e) => Object.keys(e.body)))].filter((k) => k !== 'CallbackCommand' && !common.has(k))
    const why =
      examples.length === 0 ? 'no example: nothing is required' : absent.length === 0 ? '—' : `absent from an example: ${code(absent)}`
    return `| \`${command}\` | ${sources} | ${code(requiredOf(command))} | ${why} |`
  })
}
