/**
 * A TypeScript project consuming the published package compiles and runs: the tarball `npm pack`
 * makes is installed into a temporary project, and the repository's own TypeScript compiles the
 * README's library example, a Fetch example and a Fastify example (test/fixtures/consumer) under
 * `strict` + `exactOptionalPropertyTypes` + `skipLibCheck: false`, with `module` `nodenext` and
 * `bundler`, with and without the optional peer `fastify` installed; then each program runs.
 * The installed runtime dependency tree has no native module and no install script, and
 * `require('timhook')` says the package is ESM-only.
 */
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { once } from 'node:events'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { sign } from '../../src/protocol/signature.js'
import { freePort, start } from '../helpers/process.js'

const repo = resolve(import.meta.dirname, '../..')
const tsc = join(repo, 'node_modules/typescript/bin/tsc')
const readme = readFileSync(join(repo, 'README.md'), 'utf8')
const example = /Save as `example\.mjs`[\s\S]*?```js\n([\s\S]*?)```/.exec(readme)?.[1]

function run(cmd: string, args: string[], cwd: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, NODE_ENV: 'production' } })
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`)
  return r.stdout
}

const tsconfig = (module: 'nodenext' | 'bundler', files: string[]) => ({
  compilerOptions: {
    strict: true,
    exactOptionalPropertyTypes: true,
    skipLibCheck: false,
    noUncheckedIndexedAccess: true,
    target: 'es2022',
    lib: ['es2023', 'dom'],
    types: ['node'],
    allowJs: true,
    checkJs: true,
    outDir: `out-${module}`,
    ...(module === 'nodenext' ? { module: 'nodenext', moduleResolution: 'nodenext' } : { module: 'esnext', moduleResolution: 'bundler' }),
  },
  files,
})

/** Every problem of the installed runtime tree: a native module or an install-time script. */
function nativeOrScripts(nodeModules: string): string[] {
  const found: string[] = []
  const visit = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name)
      if (e.isSymbolicLink()) continue // the linked dev tools (typescript's @types/node, fastify), not installed from the tarball
      if (e.isDirectory()) {
        if (existsSync(join(p, 'package.json')) && dir.endsWith('node_modules')) {
          const pkg = JSON.parse(readFileSync(join(p, 'package.json'), 'utf8')) as { name?: string; scripts?: Record<string, string>; gypfile?: boolean }
          for (const s of ['preinstall', 'install', 'postinstall']) if (pkg.scripts?.[s]) found.push(`${pkg.name}: ${s} script "${pkg.scripts[s]}"`)
          if (pkg.gypfile || existsSync(join(p, 'binding.gyp'))) found.push(`${pkg.name}: builds a native addon (binding.gyp)`)
        }
        visit(p)
      } else if (e.name.endsWith('.node')) found.push(`${p.slice(nodeModules.length + 1)}: a native module`)
    }
  }
  visit(nodeModules)
  return found
}

describe('the packed package in a TypeScript project', { skip: (!existsSync(join(repo, 'dist/index.js')) && 'dist/ is missing: run npm run build') || (!example && 'the README has no example block') }, () => {
  let dir = ''
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'timhook-consumer-'))
    // The tarball of the current build (scripts would rebuild dist under the other tests' feet).
    const packed = JSON.parse(run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], repo)) as Array<{ filename: string }>
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }))
    // --ignore-scripts: nothing of the tree may need its scripts (checked below), and so none run.
    run('npm', ['install', '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error', join(dir, packed[0]!.filename)], dir)
    // The compiler's inputs that are not timhook's: @types/node from this checkout, by link.
    mkdirSync(join(dir, 'node_modules/@types'), { recursive: true })
    symlinkSync(join(repo, 'node_modules/@types/node'), join(dir, 'node_modules/@types/node'), 'dir')
    writeFileSync(join(dir, 'readme.mjs'), example!)
    for (const f of ['fetch.ts', 'fastify.ts']) copyFileSync(join(repo, 'test/fixtures/consumer', f), join(dir, f))
  })
  after(() => dir && rmSync(dir, { recursive: true, force: true }))

  /** tsc over `files`, module nodenext and bundler side by side (two processes: two cores). */
  const compile = async (files: string[]) => {
    await Promise.all(
      (['nodenext', 'bundler'] as const).map(async (module) => {
        writeFileSync(join(dir, `tsconfig.${module}.json`), JSON.stringify(tsconfig(module, files)))
        const tscRun = start(process.execPath, [tsc, '-p', `tsconfig.${module}.json`], { cwd: dir })
        const [code] = (await once(tscRun.child, 'exit')) as [number | null]
        assert.equal(code, 0, `tsc (${module}, ${files.join(', ')}) reports:\n${tscRun.output()}`)
      }),
    )
  }

  it('installs without a native module or an install script in its runtime dependencies', () => {
    assert.deepEqual(nativeOrScripts(join(dir, 'node_modules')), [])
    assert.ok(existsSync(join(dir, 'node_modules/timhook/LICENSE')), 'the tarball carries the LICENSE')
    assert.equal(readdirSync(join(dir, 'node_modules/timhook/dist'), { recursive: true }).filter((f) => String(f).endsWith('.map')).length, 0, 'no source maps')
  })

  it('compiles without fastify installed, module nodenext and bundler', async () => {
    assert.equal(existsSync(join(dir, 'node_modules/fastify')), false)
    await compile(['readme.mjs', 'fetch.ts'])
  })

  it('compiles with fastify installed, module nodenext and bundler', async () => {
    symlinkSync(join(repo, 'node_modules/fastify'), join(dir, 'node_modules/fastify'), 'dir')
    try {
      await compile(['readme.mjs', 'fetch.ts', 'fastify.ts'])
    } finally {
      if (lstatSync(join(dir, 'node_modules/fastify')).isSymbolicLink()) rmSync(join(dir, 'node_modules/fastify'))
    }
  })

  it('the Fetch example runs: signed, decided by the policy', () => {
    const out = execFileSync(process.execPath, ['out-nodenext/fetch.js'], { cwd: dir, encoding: 'utf8', env: { ...process.env, TIM_CALLBACK_TOKEN: 'consumer-token' } })
    assert.equal(out.trim(), '200 {"ActionStatus":"OK","ErrorCode":1,"ErrorInfo":""}')
  })

  it('the Fastify example runs', () => {
    symlinkSync(join(repo, 'node_modules/fastify'), join(dir, 'node_modules/fastify'), 'dir')
    try {
      const out = execFileSync(process.execPath, ['out-nodenext/fastify.js'], { cwd: dir, encoding: 'utf8' })
      assert.equal(out.trim(), '200 {"ActionStatus":"OK","ErrorCode":10101,"ErrorInfo":"no"}')
    } finally {
      rmSync(join(dir, 'node_modules/fastify'))
    }
  })

  it('the README example runs from the installed package and answers a signed callback', async () => {
    const example = start(process.execPath, ['readme.mjs'], { cwd: dir, env: { ...process.env, PORT: String(await freePort()), TIM_CALLBACK_TOKEN: 'readme-token' } })
    try {
      const url = (await example.waitFor(/listening on (http:\/\/\S+)/))[1]!
      const t = Math.floor(Date.now() / 1000)
      const q = `SdkAppid=1400000000&CallbackCommand=Group.CallbackBeforeSendMsg&contenttype=json&Sign=${sign('readme-token', t)}&RequestTime=${t}`
      const body = { GroupId: '@TGS#1', From_Account: 'a', Random: 1, MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'buy now' } }] }
      const answer = await (await fetch(`${url}/?${q}`, { method: 'POST', body: JSON.stringify(body) })).json()
      assert.deepEqual(answer, { ActionStatus: 'OK', ErrorCode: 10101, ErrorInfo: 'no ads here' })
    } finally {
      await example.stop()
    }
  })

  it("require('timhook') says the package is ESM-only", () => {
    const r = spawnSync(process.execPath, ['-e', "require('timhook')"], { cwd: dir, encoding: 'utf8' })
    assert.notEqual(r.status, 0)
    assert.match(r.stderr, /timhook is ESM-only: use `import \{ createReceiver \} from 'timhook'`/)
  })
})
