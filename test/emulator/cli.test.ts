import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { describe, it } from 'node:test'
import { verify } from '../../src/protocol/signature.js'
import { APP, recordingBackend, restQuery, text } from './helpers.js'

const cli = (args: string[]) =>
  spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })

function collect(child: ReturnType<typeof cli>) {
  let out = ''
  let err = ''
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()))
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return { out: () => out, err: () => err, exited }
}

describe('timhook emulator (CLI)', { timeout: 60_000 }, () => {
  it('starts, prints its URL, serves the REST API, sends signed callbacks, logs them, and stops on SIGTERM', async () => {
    const backend = await recordingBackend()
    const child = cli(['emulator', '--port', '0', '--sdk-app-id', APP, '--callback-url', `${backend.url}/im`, '--token', 'cli-token'])
    const io = collect(child)
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setInterval(() => {
          const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(io.out())
          if (m) {
            clearInterval(timer)
            resolve(m[1]!)
          }
        }, 20)
        void io.exited.then(() => reject(new Error(`exited: ${io.err()}`)))
      })
      const post = async (api: string, body: unknown) =>
        (await (await fetch(`${url}/v4/${api}?${restQuery()}`, { method: 'POST', body: JSON.stringify(body) })).json()) as Record<
          string,
          unknown
        >
      const group = await post('group_open_http_svc/create_group', { Type: 'Public', Name: 'cli' })
      const sent = await post('group_open_http_svc/send_group_msg', { GroupId: group.GroupId, Random: 1, MsgBody: text('hi') })
      assert.equal(sent.MsgSeq, 1)
      // A guard against hanging, not a timing assertion: the log line normally appears at once.
      for (let i = 0; i < 500 && (backend.requests.length < 2 || !io.out().includes('Group.CallbackAfterSendMsg')); i++)
        await new Promise((r) => setTimeout(r, 20))
      const q = backend.requests[0]!.query
      assert.deepEqual(verify({ sign: q.get('Sign'), requestTime: q.get('RequestTime') }, { tokens: 'cli-token' }), { ok: true })
      assert.match(io.out(), /→ Group\.CallbackBeforeSendMsg\s+OK ErrorCode 0/)
    } finally {
      child.kill('SIGTERM')
      assert.equal(await io.exited, 0)
      await backend.close()
    }
  })

  it('refuses to start without --sdk-app-id, naming the flag', async () => {
    const io = collect(cli(['emulator', '--port', '0']))
    assert.equal(await io.exited, 1)
    assert.match(io.err(), /--sdk-app-id is required/)
  })

  it('emulator load --json: signed callbacks with its own --token, and a JSON report', async () => {
    const backend = await recordingBackend()
    try {
      const io = collect(
        cli([
          'emulator',
          'load',
          '--target',
          `${backend.url}/im`,
          '--rate',
          '50',
          '--duration',
          '300ms',
          '--token',
          'load-token',
          '--json',
        ]),
      )
      assert.equal(await io.exited, 0, io.err())
      const report = JSON.parse(io.out()) as { sent: number; completed: number; latencyMs: { p99: number } }
      assert.equal(report.completed, report.sent)
      assert.equal(backend.requests.length, report.sent)
      assert.ok(
        backend.requests.every(
          (r) => verify({ sign: r.query.get('Sign'), requestTime: r.query.get('RequestTime') }, { tokens: 'load-token' }).ok,
        ),
      )
      assert.equal(typeof report.latencyMs.p99, 'number')
    } finally {
      await backend.close()
    }
  })
})
