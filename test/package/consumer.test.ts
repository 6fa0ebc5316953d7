/**
 * A TypeScript project consuming the published package compiles and runs, `module: nodenext`
 * (test/package/consumer-bundler.test.ts: `bundler`). The tarball `npm pack` makes is installed into
 * a temporary project (test/package/project.ts) and the repository's own TypeScript compiles the
 * README's library example, a Fetch example and a Fastify example (test/fixtures/consumer) under
 * `strict` + `exactOptionalPropertyTypes` + `skipLibCheck: false`, with and without the optional
 * peer `fastify` installed; then each program runs. The installed runtime dependency tree has no
 * native module and no install script, and `require('timhook')` says the package is ESM-only.
 */
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { sign } from '../../src/protocol/signature.js'
import { freePort, start } from '../helpers/process.js'
import { compile, nativeOrScripts, packedProject, removeProject, skip, withFastify } from './project.js'

describe('the packed package in a TypeScript project (module nodenext)', { skip }, () => {
  let dir = ''
  before(() => (dir = packedProject()))
  after(() => removeProject(dir))

  it('installs without a native module or an install script in its runtime dependencies', () => {
    assert.deepEqual(nativeOrScripts(join(dir, 'node_modules')), [])
    assert.ok(existsSync(join(dir, 'node_modules/timhook/LICENSE')), 'the tarball carries the LICENSE')
    assert.equal(
      readdirSync(join(dir, 'node_modules/timhook/dist'), { recursive: true }).filter((f) => String(f).endsWith('.map')).length,
      0,
      'no source maps',
    )
  })

  it('compiles without fastify installed', async () => {
    assert.equal(existsSync(join(dir, 'node_modules/fastify')), false)
    await compile(dir, 'nodenext', ['readme.mjs', 'fetch.ts'])
  })

  // The other examples import nothing of fastify's: compiled above, they need no second pass here.
  it('compiles with fastify installed', async () => {
    await withFastify(dir, () => compile(dir, 'nodenext', ['fastify.ts']))
  })

  it('the Fetch example runs: signed, decided by the policy, its decision typed in ctx.meta.policy', () => {
    const out = execFileSync(process.execPath, ['out-nodenext/fetch.js'], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, TIM_CALLBACK_TOKEN: 'consumer-token' },
    })
    assert.equal(out.trim(), 'rule spam\n200 {"ActionStatus":"OK","ErrorCode":1,"ErrorInfo":""}')
  })

  it('the Fastify example runs', async () => {
    const out = await withFastify(dir, () => execFileSync(process.execPath, ['out-nodenext/fastify.js'], { cwd: dir, encoding: 'utf8' }))
    assert.equal(out.trim(), '200 {"ActionStatus":"OK","ErrorCode":10101,"ErrorInfo":"no"}')
  })

  it('the README example runs from the installed package and answers a signed callback', async () => {
    const example = start(process.execPath, ['readme.mjs'], {
      cwd: dir,
      env: { ...process.env, PORT: String(await freePort()), TIM_CALLBACK_TOKEN: 'readme-token' },
    })
    try {
      const url = (await example.waitFor(/listening on (http:\/\/\S+)/))[1]!
      const t = Math.floor(Date.now() / 1000)
      const q = `SdkAppid=1400000000&CallbackCommand=Group.CallbackBeforeSendMsg&contenttype=json&Sign=${sign('readme-token', t)}&RequestTime=${t}`
      const body = {
        GroupId: '@TGS#1',
        From_Account: 'a',
        Random: 1,
        MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'buy now' } }],
      }
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
