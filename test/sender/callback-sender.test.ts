import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { createCallbackSender } from '../../src/sender/callback-sender.js'
import { verify } from '../../src/protocol/signature.js'
import { listen } from '../helpers/http.js'
import { APP, createGroup, emulatorFor, recordingBackend, rest, text, type Backend } from '../emulator/helpers.js'

describe('callback sender', () => {
  let backend: Backend
  before(async () => {
    backend = await recordingBackend((command) => {
      if (command === 'Slow') return { delayMs: 1000 }
      if (command === 'Status500') return { status: 500, raw: 'oops' }
      if (command === 'NotJson') return { raw: '<html>OK</html>' }
      if (command === 'Array') return { raw: '[1,2]' }
      return undefined
    })
  })
  after(() => backend.close())

  it('sends exactly the documented query, keeping the configured path and query, without Sign when no token', async () => {
    const sender = createCallbackSender({ url: new URL(`${backend.url}/hook/im?tenant=a`), sdkAppId: APP, timeoutMs: 2000, connections: 4 })
    const outcome = await sender.send(sender.target('Group.CallbackAfterSendMsg', { clientIp: '10.1.2.3', optPlatform: 'RESTAPI' }), {
      CallbackCommand: 'Group.CallbackAfterSendMsg',
    })
    await sender.close()
    assert.equal(outcome.kind, 'answered')
    const r = backend.requests.at(-1)!
    assert.equal(r.path, '/hook/im')
    assert.deepEqual([...r.query.keys()], ['tenant', 'SdkAppid', 'CallbackCommand', 'contenttype', 'ClientIP', 'OptPlatform'])
    assert.equal(r.query.get('SdkAppid'), APP)
    assert.equal(r.query.get('CallbackCommand'), 'Group.CallbackAfterSendMsg')
    assert.equal(r.query.get('contenttype'), 'json')
    assert.equal(r.query.get('ClientIP'), '10.1.2.3')
    assert.equal(r.query.get('OptPlatform'), 'RESTAPI')
    assert.equal(r.headers['content-type'], 'application/json')
  })

  it('adds Sign and RequestTime that verify against the token', async () => {
    const sender = createCallbackSender({
      url: new URL(`${backend.url}/im`),
      sdkAppId: APP,
      token: 's3cret',
      timeoutMs: 2000,
      connections: 4,
    })
    await sender.send(sender.target('X.Y', { clientIp: '127.0.0.1', optPlatform: 'RESTAPI' }), {})
    await sender.close()
    const q = backend.requests.at(-1)!.query
    assert.deepEqual([...q.keys()].slice(-2), ['Sign', 'RequestTime'])
    assert.deepEqual(verify({ sign: q.get('Sign'), requestTime: q.get('RequestTime') }, { tokens: 's3cret' }), { ok: true })
    assert.equal(verify({ sign: q.get('Sign'), requestTime: q.get('RequestTime') }, { tokens: 'other' }).ok, false)
  })

  it('reuses keep-alive connections: ten sequential callbacks open at most two sockets', async () => {
    const sender = createCallbackSender({ url: new URL(`${backend.url}/im`), sdkAppId: APP, timeoutMs: 2000, connections: 8 })
    const start = backend.requests.length
    for (let i = 0; i < 10; i++) await sender.send(sender.target('Keep.Alive'), { i })
    await sender.close()
    const ports = new Set(backend.requests.slice(start).map((r) => r.remotePort))
    // undici may open a second socket while the first is still finishing a response; never one per callback.
    assert.ok(ports.size <= 2, `${ports.size} sockets for 10 callbacks`)
  })

  it('classifies timeout, non-200, non-JSON, non-object and refused connections as failures', async () => {
    const sender = createCallbackSender({ url: new URL(`${backend.url}/im`), sdkAppId: APP, timeoutMs: 150, connections: 4 })
    const slow = await sender.send(sender.target('Slow'), {})
    assert.equal(slow.kind === 'failed' && slow.reason, 'timeout')
    const status = await sender.send(sender.target('Status500'), {})
    assert.equal(status.kind === 'failed' && status.reason, 'status')
    assert.equal(status.kind === 'failed' && status.status, 500)
    const notJson = await sender.send(sender.target('NotJson'), {})
    assert.equal(notJson.kind === 'failed' && notJson.reason, 'not-json')
    const array = await sender.send(sender.target('Array'), {})
    assert.equal(array.kind === 'failed' && array.reason, 'not-json')
    await sender.close()

    const gone = await listen(() => {})
    const url = new URL(`${gone.url}/im`)
    await gone.close()
    const refused = createCallbackSender({ url, sdkAppId: APP, timeoutMs: 500, connections: 1 })
    const net = await refused.send(refused.target('Any'), {})
    assert.equal(net.kind === 'failed' && net.reason, 'network')
    await refused.close()
  })
})

describe('the emulator builds each callback target once', () => {
  it('logs the Sign and RequestTime it sends, even when the clock crosses a second between log and send', async () => {
    const backend = await recordingBackend()
    // Every reading of this clock is one second later than the previous one: a target built twice
    // (once for the log, once for the wire) would carry two different RequestTimes and Signs.
    let clock = Date.parse('2026-11-29T12:00:00.500Z')
    const emulator = await emulatorFor(backend, { token: 'tick-token', now: () => (clock += 1000) })
    try {
      const sent = await rest(emulator, 'group_open_http_svc/send_group_msg', {
        GroupId: await createGroup(emulator),
        From_Account: 'a',
        Random: 1,
        MsgBody: text('hi'),
      })
      assert.equal(sent.ActionStatus, 'OK')
      await emulator.idle()
      const logged = emulator
        .callbacks()
        .filter((c) => c.command === 'Group.CallbackBeforeSendMsg' || c.command === 'Group.CallbackAfterSendMsg')
      assert.equal(logged.length, 2)
      for (const entry of logged) {
        const wire = backend.of(entry.command)
        assert.equal(wire.length, 1, entry.command)
        const log = new URLSearchParams(entry.target.slice(entry.target.indexOf('?') + 1))
        assert.ok(log.get('Sign'), 'the logged target is signed')
        assert.equal(log.get('RequestTime'), wire[0]!.query.get('RequestTime'), `${entry.command}: RequestTime`)
        assert.equal(log.get('Sign'), wire[0]!.query.get('Sign'), `${entry.command}: Sign`)
      }
    } finally {
      await emulator.close()
      await backend.close()
    }
  })
})
