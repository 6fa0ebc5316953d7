/** The dependency rules of docs/architecture.md, enforced: each folder imports only what the table allows. */
import assert from 'node:assert/strict'
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { ERRORS } from '../../src/protocol/errors.js'

const ALLOWED: Record<string, string[]> = {
  protocol: ['protocol'],
  receiver: ['receiver', 'protocol', 'adapters'],
  adapters: ['adapters', 'protocol', 'receiver'],
  policy: ['policy', 'protocol'],
  store: ['store', 'protocol'],
  server: ['server', 'protocol', 'receiver', 'adapters', 'policy', 'store'],
  emulator: ['emulator', 'protocol'],
  cli: ['cli', 'protocol', 'receiver', 'adapters', 'policy', 'store', 'server', 'emulator'],
}

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []))
}

describe('architecture', () => {
  it('every folder imports only the folders it may depend on', () => {
    const violations: string[] = []
    for (const file of files('src')) {
      const parts = file.split('/')
      const area = parts[1]!
      if (parts.length === 2) continue // src/index.ts, the package barrel
      const allowed = ALLOWED[area]
      assert.ok(allowed, `docs/architecture.md has no rule for src/${area}`)
      for (const m of readFileSync(file, 'utf8').matchAll(/from '(\.[^']+)'/g)) {
        const target = join(parts.slice(0, -1).join('/'), m[1]!).split('/')[1]!
        if (!allowed.includes(target)) violations.push(`${file} imports ${m[1]} (src/${target})`)
      }
    }
    assert.deepEqual(violations, [])
  })

  it('docs/library.md lists every code of the error catalogue', () => {
    const doc = readFileSync('docs/library.md', 'utf8')
    for (const code of Object.keys(ERRORS)) assert.ok(doc.includes(`\`${code}\``), `${code} is documented`)
  })
})
