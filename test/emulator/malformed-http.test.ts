import assert from 'node:assert/strict'
import net from 'node:net'
import { after, before, describe, it } from 'node:test'
import fc from 'fast-check'
import type { Emulator } from '../../src/emulator/index.js'
import { emulatorFor, rest, restQuery } from './helpers.js'

/** Writes `raw` on a fresh loopback connection and returns everything the emulator answers until it closes. */
function exchange(port: number, raw: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1')
    let text = ''
    socket.setEncoding('utf8')
    socket.on('data', (d: string) => (text += d))
    socket.on('error', reject)
    socket.on('close', () => resolve(text))
    socket.end(raw)
  })
}

/** The status code and JSON body of each response in `text` (responses carry content-length). */
function responses(text: string): Array<{ status: number; body: Record<string, unknown> }> {
  const out: Array<{ status: number; body: Record<string, unknown> }> = []
  let rest = text
  while (rest.length > 0) {
    const head = /^HTTP\/1\.1 (\d{3})[^\r]*\r\n([\s\S]*?)\r\n\r\n/.exec(rest)
    assert.ok(head, `not an HTTP response: ${JSON.stringify(rest.slice(0, 200))}`)
    const length = Number(/content-length: (\d+)/i.exec(head[2]!)?.[1])
    const bodyStart = head[0].length
    const bodyText = Buffer.from(rest.slice(bodyStart), 'utf8').subarray(0, length).toString('utf8')
    out.push({ status: Number(head[1]), body: JSON.parse(bodyText) as Record<string, unknown> })
    rest = rest.slice(bodyStart + bodyText.length)
  }
  return out
}

const createGroupRequest = (connection: string) => {
  const body = JSON.stringify({ Type: 'Public', Name: 'after-bad-line' })
  return `POST /v4/group_open_http_svc/create_group?${restQuery()} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: ${body.length}\r\nconnection: ${connection}\r\n\r\n${body}`
}

describe('emulator: malformed HTTP never crashes it', () => {
  let emulator: Emulator
  before(async () => {
    emulator = await emulatorFor(undefined)
  })
  after(() => emulator.close())

  it('a request target that is not a URL (POST http://[::1) gets 400 + FAIL 60002, and the same connection then serves a REST call', async () => {
    const text = await exchange(
      emulator.port,
      'POST http://[::1 HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n\r\n{}' + createGroupRequest('close'),
    )
    const [bad, good] = responses(text)
    assert.equal(bad!.status, 400)
    assert.deepEqual([bad!.body.ActionStatus, bad!.body.ErrorCode], ['FAIL', 60002])
    assert.match(bad!.body.ErrorInfo as string, /HTTP parse error.*\[::1/)
    assert.equal(good!.status, 200)
    assert.equal(good!.body.ActionStatus, 'OK')
    // And a new connection still works: the process is alive.
    assert.equal((await rest(emulator, 'group_open_http_svc/create_group', { Type: 'Public', Name: 'still-here' })).ActionStatus, 'OK')
  })

  it('bytes that are not HTTP get 400 + FAIL 60002 instead of a dropped connection; oversized headers get 431', async () => {
    const [garbage] = responses(await exchange(emulator.port, 'HELLO\u0001 WORLD\r\n\r\n'))
    assert.equal(garbage!.status, 400)
    assert.deepEqual([garbage!.body.ActionStatus, garbage!.body.ErrorCode], ['FAIL', 60002])
    const [huge] = responses(
      await exchange(emulator.port, `GET /emulator/groups HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(64 * 1024)}\r\n\r\n`),
    )
    assert.equal(huge!.status, 431)
    assert.equal(huge!.body.ErrorCode, 60002)
  })

  it('an API name that is an Object.prototype key (v4/constructor) is an unknown API, not an internal error', async () => {
    for (const api of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      const r = await rest(emulator, api, {})
      assert.deepEqual([r.ActionStatus, r.ErrorCode], ['FAIL', 60009], api)
    }
  })

  it('whatever the request target, method and path, the emulator answers HTTP with a JSON body and keeps serving (property)', async () => {
    const chunk = fc.oneof(
      fc.constantFrom(
        '/v4/',
        '/emulator/',
        'openim/sendmsg',
        'groups/',
        '/messages',
        'http://',
        '[',
        ']',
        '::1',
        '%',
        '%E0%A4%A',
        '%00',
        '?',
        '#',
        '&',
        '=',
        '\\',
        '..',
        '//',
        '@',
        ':',
        'constructor',
        '__proto__',
        '\u00e9',
        '\u4e2d',
        '\ud83d\ude00',
        '\t',
      ),
      fc.string({ maxLength: 6 }),
    )
    const target = fc.array(chunk, { maxLength: 8 }).map((parts) => parts.join(''))
    const method = fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'BREW', 'post')
    await fc.assert(
      fc.asyncProperty(method, target, async (m, t) => {
        const text = await exchange(emulator.port, `${m} ${t} HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}`)
        const answers = responses(text)
        assert.ok(answers.length >= 1, `no answer to ${JSON.stringify(`${m} ${t}`)}`)
        for (const a of answers) assert.ok(a.status >= 200 && a.status < 600)
      }),
      { numRuns: 300 },
    )
    assert.equal((await rest(emulator, 'group_open_http_svc/create_group', { Type: 'Public', Name: 'after-fuzz' })).ActionStatus, 'OK')
  })
})
