/**
 * The quick starts run as the docs write them. Each block is read from the Markdown; only its
 * ports are moved to free ones, and `npx timhook` is this checkout's CLI (dist/cli/main.js).
 * - README: the emulator session (three terminals) makes a callback reach the library example.
 * - docs/emulator.md: the whole copy-paste session, every `# → ` answer compared, no placeholder.
 * - docs/server.md: the signed-callback recipe, shell (`sha256sum`) and JavaScript, against `serve`.
 */
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { freePort, start, type Running } from '../helpers/process.js'
import { codeBlock, movePorts, portOpen, runSession, terminals } from '../helpers/snippets.js'

const repo = resolve(import.meta.dirname, '../..')
const cli = join(repo, 'dist/cli/main.js')
const readme = readFileSync(join(repo, 'README.md'), 'utf8')
const emulatorDoc = readFileSync(join(repo, 'docs/emulator.md'), 'utf8')
const serverDoc = readFileSync(join(repo, 'docs/server.md'), 'utf8')
const env = { ...process.env, PATH: `${resolve(process.execPath, '..')}:${process.env.PATH}` }

describe('quick starts, as written', { skip: !existsSync(cli) && 'dist/ is missing: run npm run build' }, () => {
  let dir = ''
  const running: Running[] = []
  before(() => {
    // A project where `timhook` is installed: node_modules/timhook is this checkout.
    dir = mkdtempSync(join(tmpdir(), 'timhook-quickstart-'))
    mkdirSync(join(dir, 'node_modules'))
    symlinkSync(repo, join(dir, 'node_modules/timhook'), 'dir')
  })
  after(async () => {
    await Promise.all(running.map((r) => r.stop()))
    rmSync(dir, { recursive: true, force: true })
  })

  /** Runs one terminal's command (a server) in the background until something listens on `port`. */
  const serve = async (command: string, port: number) => {
    // `exec` so that stopping the shell stops the program; `A=b exec cmd` keeps the doc's variables.
    const line = command.replaceAll('npx timhook', `node ${cli}`).replace(/^((?:\w+=\S*\s+)*)/, '$1exec ')
    const r = start('bash', ['-c', line], { cwd: dir, env })
    running.push(r)
    let exited = false
    r.child.on('exit', () => (exited = true))
    await portOpen(port, () => !exited).catch((err: Error) => assert.fail(`${command}: ${err.message}\n${r.output()}`))
    return r
  }

  it('no placeholder is left to fill in', () => {
    for (const [name, text] of [
      ['README.md', readme],
      ['docs/emulator.md', emulatorDoc],
      ['docs/server.md', serverDoc],
    ]) {
      assert.doesNotMatch(text!, /"<[^>"]*>"|<MsgKey|from above>/, `${name} has a placeholder`)
    }
  })

  it('README: the emulator session makes a callback reach the library example, and its deny reach the sender', async () => {
    const ports = { 8080: await freePort(), 9080: await freePort() }
    const example = codeBlock(readme, 'Save as `example.mjs`', 'js')
    writeFileSync(join(dir, 'example.mjs'), movePorts(example, ports))
    const [backend, emulator, calls] = terminals(movePorts(codeBlock(readme, '## Develop without a Tencent account', 'sh'), ports))
    assert.ok(backend && emulator && calls, 'three terminals')
    await serve(backend, ports[8080])
    const emu = await serve(emulator, ports[9080])
    const results = runSession(calls, { cwd: dir, cli })
    assert.ok(
      results.some((s) => s.command.includes('send_group_msg') && s.expected?.includes('10101')),
      'the doc shows the deny',
    )
    // The emulator logs each callback it sent and the answer: the backend was reached.
    await emu.waitFor(/Group\.CallbackBeforeSendMsg[^\n]*10101/)
  })

  it('docs/emulator.md: the copy-paste session answers what the doc shows, withdraw included', async () => {
    const ports = { 8080: await freePort(), 9080: await freePort() }
    writeFileSync(join(dir, 'backend.mjs'), movePorts(codeBlock(emulatorDoc, '(`backend.mjs`', 'js'), ports))
    const [backend, emulator, calls] = terminals(movePorts(codeBlock(emulatorDoc, 'A session, copy-paste', 'sh'), ports))
    assert.ok(backend && emulator && calls, 'three terminals')
    const back = await serve(backend, ports[8080])
    const emu = await serve(emulator, ports[9080])
    const results = runSession(calls, { cwd: dir, cli })
    assert.ok(results.filter((s) => s.expected !== undefined).length >= 6, 'the answers the doc shows were compared')
    await back.waitFor(/recalled team-1/)
    await emu.waitFor(/C2C\.CallbackAfterMsgWithDraw/)
  })

  describe('docs/server.md: a signed callback by hand', () => {
    let port = 0
    let adminToken = ''
    before(async () => {
      port = await freePort()
      const command = /With\s+`(timhook serve [^`]+)`/.exec(serverDoc)?.[1]
      assert.ok(command, 'the recipe names the serve command it pokes')
      adminToken = /--admin-token (\S+)/.exec(command)![1]!
      const args = command.split(/\s+/).slice(1)
      const server = start(
        process.execPath,
        [cli, ...args, '--port', String(port), '--db', join(dir, 'recipe.db'), '--log-level', 'warn'],
        { cwd: dir, env },
      )
      running.push(server)
      await portOpen(port, () => server.child.exitCode === null)
    })

    it('the shell recipe (sha256sum) is accepted, and the message is stored', () => {
      const shell = movePorts(codeBlock(serverDoc, '## A signed callback by hand', 'sh'), { 8080: port })
      assert.match(shell, /sha256sum/)
      const results = runSession(shell, { cwd: dir, cli })
      assert.equal(results.filter((s) => s.expected !== undefined).length, 2)
    })

    it('the JavaScript recipe is accepted, and the message is stored', async () => {
      const js = movePorts(codeBlock(serverDoc, 'The same from JavaScript', 'js'), { 8080: port })
      writeFileSync(join(dir, 'sign.mjs'), js)
      const program = start(process.execPath, ['sign.mjs'], { cwd: dir, env })
      running.push(program)
      const expected = /console\.log\([^\n]*\/\/ (.*)$/m.exec(js)![1]!
      await program.waitFor(new RegExp(expected.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      const key = /MsgKey: '([^']+)'/.exec(js)![1]!
      const res = await fetch(`http://127.0.0.1:${port}/api/messages?from=jared`, { headers: { authorization: `Bearer ${adminToken}` } })
      const { items } = (await res.json()) as { items: Array<Record<string, unknown>> }
      assert.ok(
        items.some((m) => m.MsgKey === key),
        `the C2C message ${key} is stored`,
      )
    })
  })
})
