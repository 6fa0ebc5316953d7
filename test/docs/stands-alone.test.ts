/**
 * The repository stands alone: no tracked doc, source, test, script or comment cites material a
 * reader of the repository cannot open — a path outside the checkout, a document that is not in it,
 * an issue or pull-request number, a section of some outside reference, "a review".
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, isAbsolute, relative, resolve } from 'node:path'
import { describe, it } from 'node:test'

const root = resolve(import.meta.dirname, '../..')
const self = relative(root, import.meta.filename)
const TEXT = /\.(md|ts|mts|js|mjs|cjs|json|ya?ml|sh|txt|service|conf)$|^\.ci\/run$|^LICENSE$/

// Citations that point outside the repository. Each one names what it catches.
const CITATIONS: [RegExp, string][] = [
  [/\b(issues?|pull requests?|PRs?|tickets?)\s+#?\d+/i, 'an issue or pull-request number'],
  [/\b(fixe[sd]|close[sd]|resolve[sd]|see|in|by|from|after)\s+#\d+\b/i, 'an issue number'],
  [/\bopen questions?\b/i, 'the open questions of an outside document'],
  [/§\s*\d/, 'a section of an outside document'],
  [/\b(product|style|tim-callback-protocol)\.md\b/, 'a document that is not in the repository'],
  [/\bshared\/(spec|style)/, 'a directory outside the repository'],
  [/(^|[\s(`'"])\/(work|home|Users|root)\/\w/, 'an absolute path on some machine'],
  [/\b(in|a|the|per|after|during) (code )?review\b/i, 'a review'],
  [/\bprotocol reference\b/i, 'an outside reference document'],
]

// `../x` paths: outside the repository relative to the file and relative to the checkout root.
const UP = /(?:^|[\s(`'"=])((?:\.\.\/)+[\w.@-][\w./@-]*)/g

function trackedFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' })
  return out.split('\0').filter((f) => f && TEXT.test(f) && f !== self && f !== 'package-lock.json' && existsSync(resolve(root, f)))
}

const outside = (p: string) => {
  const r = relative(root, p)
  return r.startsWith('..') || isAbsolute(r)
}

/** Every citation of outside material in `text`, as `line: what (excerpt)`. */
export function findCitations(file: string, text: string): string[] {
  const found: string[] = []
  text.split('\n').forEach((line, i) => {
    for (const [re, what] of CITATIONS) {
      const m = re.exec(line)
      if (m) found.push(`${file}:${i + 1}: ${what}: ${m[0].trim()}`)
    }
    for (const m of line.matchAll(UP)) {
      const p = m[1]!
      // Relative to the file (an import, a Markdown link) the first named directory exists;
      // relative to the checkout root (a path a test or script opens) it is outside.
      const head = resolve(root, dirname(file), p.replace(/^((?:\.\.\/)+[^/]+).*$/, '$1'))
      const known = existsSync(head) || existsSync(head.replace(/\.js$/, '.ts')) || /^(dist|node_modules)$/.test(relative(root, head))
      const fromFile = resolve(root, dirname(file), p)
      const fromRoot = resolve(root, p)
      if (outside(fromFile) || (outside(fromRoot) && !known)) found.push(`${file}:${i + 1}: a path outside the repository: ${p}`)
    }
  })
  return found
}

describe('the repository stands alone', () => {
  it('finds each kind of outside citation (so the check below can fail)', () => {
    const bad = [
      // Spelled in pieces, so that this file does not itself contain what it looks for.
      ['see issue', '5'].join(' '),
      'fixed in #12',
      'PR 31 did it',
      'open question 7',
      'reference §5.1',
      ['product', 'md "Verdicts"'].join('.'),
      ['see shared', 'spec'].join('/'),
      "readFileSync('../notes/x.md')",
      'measured in review',
      'as the protocol reference says',
      'cat /work/main/README.md',
    ]
    for (const line of bad) assert.equal(findCitations('test/docs/x.ts', line).length, 1, line)
    const good = [
      "import { x } from '../../src/index.js'",
      'group `@TGS#2J4SZEAEL`',
      'color #333',
      'see docs/server.md',
      'Can you review the PR before lunch?',
      'RetCode 10030',
      'a session, copy-paste',
      '`/tmp/x.db`',
    ]
    for (const line of good) assert.deepEqual(findCitations('test/docs/x.ts', line), [], line)
    assert.deepEqual(findCitations('docs/x.md', '[server](../README.md)'), [])
    assert.equal(findCitations('docs/x.md', '[spec](../../spec.md)').length, 1)
  })

  it('no tracked doc, source, test, script or comment cites material outside the repository', () => {
    const files = trackedFiles()
    assert.ok(files.includes('README.md') && files.some((f) => f.startsWith('src/')), 'git lists the tracked files')
    const found = files.flatMap((f) => findCitations(f, readFileSync(resolve(root, f), 'utf8')))
    assert.deepEqual(found, [], `state the fact itself instead of citing outside material:\n${found.join('\n')}`)
  })
})
