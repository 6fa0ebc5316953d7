#!/usr/bin/env node
// `npm run build` (and `npm start` before it serves): compiles src/ into dist/ only when dist is
// stale — an output missing, or older than its source or than tsconfig.json / package.json — so a
// start with a current dist costs a directory walk, not a TypeScript build. The build itself is
// `tsc -b` (incremental: dist/.tsbuildinfo); `--force` when outputs are missing, because tsc -b
// trusts its build info and does not notice deleted outputs. `--clean` (used before packing)
// removes dist first, so nothing stale is ever published.
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'

const clean = process.argv.includes('--clean')
if (clean) rmSync('dist', { recursive: true, force: true })

function* sources(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    if (e.isDirectory()) yield* sources(p)
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) yield p
  }
}

const mtime = (p) => statSync(p).mtimeMs
const config = Math.max(mtime('tsconfig.json'), mtime('package.json'))
let missing = 0
let stale = 0
for (const src of sources('src')) {
  const base = join('dist', src.slice('src/'.length, -'.ts'.length))
  for (const out of [`${base}.js`, `${base}.d.ts`]) {
    if (!existsSync(out)) missing++
    else if (mtime(out) < Math.max(mtime(src), config)) stale++
  }
}
if (!clean && missing === 0 && stale === 0 && existsSync('dist/.tsbuildinfo')) process.exit(0)

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
const args = [tsc, '-b', 'tsconfig.json', ...(missing > 0 || clean ? ['--force'] : [])]
const result = spawnSync(process.execPath, args, { stdio: 'inherit' })
process.exit(result.status ?? 1)
