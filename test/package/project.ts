/**
 * A temporary TypeScript project with the packed tarball installed: what test/package/*.test.ts
 * compile and run. The tarball is the current build's (`npm pack --ignore-scripts`: a prepack
 * would rebuild dist under the other tests' feet); npm installs it and its runtime dependencies
 * with scripts off (none may need one: checked); @types/node and, when asked, the optional peer
 * fastify are this checkout's, linked.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { start } from '../helpers/process.js'

export const repo = resolve(import.meta.dirname, '../..')
const tsc = join(repo, 'node_modules/typescript/bin/tsc')
const readme = readFileSync(join(repo, 'README.md'), 'utf8')
export const readmeExample = /Save as `example\.mjs`[\s\S]*?```js\n([\s\S]*?)```/.exec(readme)?.[1]
export const skip =
  (!existsSync(join(repo, 'dist/index.js')) && 'dist/ is missing: run npm run build') ||
  (!readmeExample && 'the README has no example block')

export type ModuleKind = 'nodenext' | 'bundler'

function run(cmd: string, args: string[], cwd: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, NODE_ENV: 'production' } })
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`)
  return r.stdout
}

/** Packs, installs into a new directory, adds readme.mjs, fetch.ts and fastify.ts; returns the directory. */
export function packedProject(): string {
  const dir = mkdtempSync(join(tmpdir(), 'timhook-consumer-'))
  const packed = JSON.parse(run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], repo)) as Array<{
    filename: string
  }>
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }))
  run(
    'npm',
    ['install', '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error', join(dir, packed[0]!.filename)],
    dir,
  )
  mkdirSync(join(dir, 'node_modules/@types'), { recursive: true })
  symlinkSync(join(repo, 'node_modules/@types/node'), join(dir, 'node_modules/@types/node'), 'dir')
  writeFileSync(join(dir, 'readme.mjs'), readmeExample!)
  for (const f of ['fetch.ts', 'fastify.ts']) copyFileSync(join(repo, 'test/fixtures/consumer', f), join(dir, f))
  return dir
}

export const removeProject = (dir: string) => dir && rmSync(dir, { recursive: true, force: true })

/** Runs `body` with the optional peer fastify installed (this checkout's, linked), then removes it. */
export async function withFastify<T>(dir: string, body: () => T | Promise<T>): Promise<T> {
  const link = join(dir, 'node_modules/fastify')
  symlinkSync(join(repo, 'node_modules/fastify'), link, 'dir')
  try {
    return await body()
  } finally {
    rmSync(link)
  }
}

/** A consumer's strictest usual settings, with `module` nodenext or bundler. */
const tsconfig = (module: ModuleKind, files: string[]) => ({
  compilerOptions: {
    strict: true,
    exactOptionalPropertyTypes: true,
    skipLibCheck: false,
    noUncheckedIndexedAccess: true,
    target: 'es2022',
    lib: ['es2023'],
    types: ['node'],
    allowJs: true,
    checkJs: true,
    outDir: `out-${module}`,
    ...(module === 'nodenext' ? { module: 'nodenext', moduleResolution: 'nodenext' } : { module: 'esnext', moduleResolution: 'bundler' }),
  },
  files,
})

/** tsc over `files` in the project; fails the test with tsc's report. */
export async function compile(dir: string, module: ModuleKind, files: string[]): Promise<void> {
  writeFileSync(join(dir, `tsconfig.${module}.json`), JSON.stringify(tsconfig(module, files)))
  const tscRun = start(process.execPath, [tsc, '-p', `tsconfig.${module}.json`], { cwd: dir })
  const [code] = (await once(tscRun.child, 'exit')) as [number | null]
  assert.equal(code, 0, `tsc (${module}, ${files.join(', ')}) reports:\n${tscRun.output()}`)
}

/** Every problem of the installed runtime tree: a native module or an install-time script. */
export function nativeOrScripts(nodeModules: string): string[] {
  const found: string[] = []
  const visit = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name)
      if (e.isSymbolicLink()) continue // the linked dev tools (typescript's @types/node, fastify), not installed from the tarball
      if (e.isDirectory()) {
        if (existsSync(join(p, 'package.json')) && dir.endsWith('node_modules')) {
          const pkg = JSON.parse(readFileSync(join(p, 'package.json'), 'utf8')) as {
            name?: string
            scripts?: Record<string, string>
            gypfile?: boolean
          }
          for (const s of ['preinstall', 'install', 'postinstall'])
            if (pkg.scripts?.[s]) found.push(`${pkg.name}: ${s} script "${pkg.scripts[s]}"`)
          if (pkg.gypfile || existsSync(join(p, 'binding.gyp'))) found.push(`${pkg.name}: builds a native addon (binding.gyp)`)
        }
        visit(p)
      } else if (e.name.endsWith('.node')) found.push(`${p.slice(nodeModules.length + 1)}: a native module`)
    }
  }
  visit(nodeModules)
  return found
}
