/**
 * The dependency rules of docs/architecture.md, enforced: each folder imports only the folders below
 * it, and no file reaches itself again through its imports (type-only imports included).
 */
import assert from 'node:assert/strict'
import { readFileSync, readdirSync } from 'node:fs'
import { dirname, join, normalize } from 'node:path'
import { describe, it } from 'node:test'
import { ERRORS } from '../../src/protocol/errors.js'

/** Layers, lowest first: a folder may import its own layer's folder and lower layers only. */
const LAYER: Record<string, number> = {
  protocol: 0,
  sinks: 0,
  receiver: 1,
  policy: 1,
  store: 1,
  sender: 1,
  adapters: 2,
  emulator: 2,
  load: 2,
  server: 3,
  cli: 4,
}
/** Within those bounds, what each folder may import (docs/architecture.md's table). */
const ALLOWED: Record<string, string[]> = {
  protocol: [],
  sinks: [],
  receiver: ['protocol'],
  policy: ['protocol'],
  store: ['protocol', 'sinks'],
  sender: ['protocol'],
  emulator: ['protocol', 'sender'],
  load: ['protocol', 'sender'],
  adapters: ['protocol', 'receiver'],
  server: ['protocol', 'receiver', 'adapters', 'policy', 'store', 'sinks'],
  cli: ['protocol', 'receiver', 'adapters', 'policy', 'store', 'server', 'sender', 'emulator', 'load', 'sinks'],
}

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  )
}

/** Every relative import of a file, as a path under src: `import`, `import type`, `export … from`, `import()`. */
function importsOf(file: string, text = readFileSync(file, 'utf8')): string[] {
  return [...text.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*'(\.[^']+)'/g)].map((m) =>
    normalize(join(dirname(file), m[1]!)).replace(/\.js$/, '.ts'),
  )
}

const graph = new Map(files('src').map((f) => [f, importsOf(f)]))

/** Strongly connected components with more than one file, or a file importing itself (Tarjan). */
function cycles(g: Map<string, string[]>): string[][] {
  let next = 0
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const found: string[][] = []
  const visit = (v: string): void => {
    index.set(v, next)
    low.set(v, next++)
    stack.push(v)
    onStack.add(v)
    for (const w of g.get(v) ?? []) {
      if (!g.has(w)) continue
      if (!index.has(w)) {
        visit(w)
        low.set(v, Math.min(low.get(v)!, low.get(w)!))
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!))
    }
    if (low.get(v) !== index.get(v)) return
    const component: string[] = []
    let w: string
    do {
      w = stack.pop()!
      onStack.delete(w)
      component.push(w)
    } while (w !== v)
    if (component.length > 1 || g.get(v)!.includes(v)) found.push(component.sort())
  }
  for (const v of g.keys()) if (!index.has(v)) visit(v)
  return found
}

describe('architecture', () => {
  it('every folder imports only its own and the folders below it that it may depend on', () => {
    const violations: string[] = []
    for (const [file, deps] of graph) {
      const parts = file.split('/')
      const area = parts[1]!
      if (parts.length === 2) continue // src/index.ts, the package barrel
      assert.ok(ALLOWED[area] && LAYER[area] !== undefined, `docs/architecture.md has no rule for src/${area}`)
      for (const dep of deps) {
        const target = dep.split('/')[1]!
        if (target === area) continue
        if (!ALLOWED[area]!.includes(target)) violations.push(`${file} imports ${dep} (src/${target} is not allowed)`)
        else if (!(LAYER[target]! < LAYER[area]!)) violations.push(`${file} imports ${dep} (src/${target} is not below src/${area})`)
      }
    }
    assert.deepEqual(violations, [])
  })

  it('the allowed imports point down only: no folder may import one at its own layer or above', () => {
    for (const [area, allowed] of Object.entries(ALLOWED))
      for (const target of allowed) assert.ok(LAYER[target]! < LAYER[area]!, `${area} → ${target}`)
  })

  it('no import cycle between files, type-only imports included', () => {
    assert.deepEqual(cycles(graph), [])
  })

  it('the cycle check finds a cycle, type-only and through a barrel', () => {
    const g = new Map([
      ['src/a/x.ts', ['src/a/index.ts']],
      ['src/a/index.ts', ['src/a/y.ts']],
      ['src/a/y.ts', ['src/a/x.ts']],
      ['src/a/z.ts', ['src/a/z.ts']],
      ['src/a/w.ts', ['src/a/x.ts']],
    ])
    assert.deepEqual(cycles(g).sort(), [['src/a/index.ts', 'src/a/x.ts', 'src/a/y.ts'], ['src/a/z.ts']])
    const text =
      "import type { A } from './a.js'\nexport { B } from '../docs/b.js'\nimport {\n  C,\n} from './c.js'\nconst d = await import('./d.js')\nimport './e.js'"
    assert.deepEqual(importsOf('src/x/f.ts', text), ['src/x/a.ts', 'src/docs/b.ts', 'src/x/c.ts', 'src/x/d.ts', 'src/x/e.ts'])
  })

  it("docs/architecture.md's layer block is the code's: each folder on its layer, with the folders it imports", () => {
    const doc = readFileSync('docs/architecture.md', 'utf8')
    const block = doc.slice(doc.indexOf('```\nlayer 4') + 4, doc.indexOf('```', doc.indexOf('```\nlayer 4') + 4))
    const drawn = new Map<string, { layer: number; imports: string[] }>()
    let layer = -1
    for (const line of block.trim().split('\n')) {
      const m = /^(?:layer (\d) {2})?\s*([a-z]+)\s+(?:→ (.+)|\(nothing of ours\))$/.exec(line)
      assert.ok(m, `a layer line: ${line}`)
      if (m[1] !== undefined) layer = Number(m[1])
      drawn.set(m[2]!, { layer, imports: m[3] === undefined ? [] : m[3].split(', ').sort() })
    }
    const actual = new Map<string, Set<string>>()
    for (const [file, deps] of graph) {
      const parts = file.split('/')
      if (parts.length === 2) continue
      const set = actual.get(parts[1]!) ?? actual.set(parts[1]!, new Set()).get(parts[1]!)!
      for (const dep of deps) if (dep.split('/')[1] !== parts[1]) set.add(dep.split('/')[1]!)
    }
    assert.deepEqual([...drawn.keys()].sort(), Object.keys(LAYER).sort())
    for (const [area, { layer: l, imports }] of drawn) {
      assert.equal(l, LAYER[area], `${area} is drawn on layer ${LAYER[area]}`)
      assert.deepEqual(imports, [...(actual.get(area) ?? [])].sort(), `${area}'s arrows are its imports`)
    }
  })

  it("docs/architecture.md's table allows each folder what the rules allow", () => {
    const doc = readFileSync('docs/architecture.md', 'utf8')
    for (const [area, allowed] of Object.entries(ALLOWED)) {
      const row = doc.split('\n').find((l) => l.startsWith(`| \`src/${area}\` |`))
      assert.ok(row, `a row for src/${area}`)
      const cell = row.split(' | ').at(-1)!.replace(/ \|$/, '').replace(/\*/g, '')
      if (cell === 'everything below it') assert.equal(LAYER[area], Math.max(...Object.values(LAYER)))
      else assert.deepEqual(cell === 'nothing of ours' ? [] : cell.split(', ').sort(), [...allowed].sort(), `src/${area}`)
    }
  })

  it("docs/architecture.md's three flows name files that exist, each once", () => {
    const doc = readFileSync('docs/architecture.md', 'utf8')
    const section = doc.slice(
      doc.indexOf('## Three flows, file by file'),
      doc.indexOf('\n## ', doc.indexOf('## Three flows, file by file') + 1),
    )
    const flows = section.split('\n**').slice(1)
    assert.equal(flows.length, 3)
    for (const flow of flows) {
      const named = [...flow.matchAll(/`([a-z-]+\/[\w/.-]+\.ts)`/g)].map((m) => m[1]!)
      assert.ok(named.length > 8, flow.slice(0, 60))
      for (const file of named) assert.ok(graph.has(`src/${file}`), `src/${file} exists`)
      assert.deepEqual(
        named.filter((f, i) => named.indexOf(f) !== i),
        [],
        `each file once in: ${flow.slice(0, 60)}`,
      )
    }
  })

  it('docs/library.md lists every code of the error catalogue', () => {
    const doc = readFileSync('docs/library.md', 'utf8')
    for (const code of Object.keys(ERRORS)) assert.ok(doc.includes(`\`${code}\``), `${code} is documented`)
  })
})
