import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { toNodeHandler } from '../../src/adapters/node.js'
import { createReceiver } from '../../src/receiver/index.js'
import { verdict } from '../../src/protocol/verdict.js'
import { APP, TOKEN, groupBeforeSend, groupRecall, query } from '../helpers/callbacks.js'
import { listen, rawExchange } from '../helpers/http.js'

describe('node:http adapter over a real socket', () => {
  const limit = 64 * 1024
  const receiver = createReceiver({ sdkAppId: APP, token: TOKEN, bodyLimit: limit })
  const recalled: number[] = []
  receiver.on('Group.CallbackBeforeSendMsg', (e) => (JSON.stringify(e.MsgBody).includes('spam') ? verdict.deny() : verdict.allow()))
  receiver.on('Group.CallbackAfterRecallMsg', (e) => void recalled.push(e.MsgSeqList[0]!.MsgSeq))
  let server: Awaited<ReturnType<typeof listen>>
  before(async () => (server = await listen(toNodeHandler(receiver))))
  after(() => server.close())

  const post = (command: string, body: string, init: RequestInit = {}) =>
    fetch(`${server.url}/?${query(command, { token: TOKEN })}`, { method: 'POST', body, ...init })

  it('answers a before-send decision and an after-event over keep-alive', async () => {
    const deny = await post('Group.CallbackBeforeSendMsg', JSON.stringify(groupBeforeSend('buy spam now')))
    assert.equal(deny.status, 200)
    assert.equal(deny.headers.get('content-type'), 'application/json; charset=utf-8')
    assert.deepEqual(await deny.json(), { ActionStatus: 'OK', ErrorCode: 1, ErrorInfo: '' })
    const ok = await post('Group.CallbackAfterRecallMsg', JSON.stringify(groupRecall()))
    assert.deepEqual(await ok.json(), { ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '' })
    assert.deepEqual(recalled, [130])
  })

  it('refuses by content-length with 413 without reading the body', async () => {
    const q = query('Group.CallbackAfterRecallMsg', { token: TOKEN })
    const head = `POST /?${q} HTTP/1.1\r\nHost: x\r\nContent-Length: ${limit + 1}\r\n\r\n`
    // Send no body at all: the answer must come anyway, so nothing was waiting for the body.
    const res = await rawExchange(server.port, head, () => {})
    assert.equal(res.status, 413)
    assert.match(res.text, /TIMHOOK_BODY_TOO_LARGE/)
  })

  it('refuses a chunked body that grows past the limit, and stops reading', async () => {
    const q = query('Group.CallbackAfterRecallMsg', { token: TOKEN })
    const head = `POST /?${q} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n`
    const chunk = 'a'.repeat(16 * 1024)
    const res = await rawExchange(server.port, head, (socket) => {
      // Keep sending for a while; the server must answer once past the limit, not wait for the end.
      let sent = 0
      const timer = setInterval(() => {
        if (socket.destroyed || sent > 400) return clearInterval(timer)
        socket.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`)
        sent++
      }, 2)
    })
    assert.equal(res.status, 413)
    assert.match(res.text, /TIMHOOK_BODY_TOO_LARGE/)
    assert.ok(res.bytesWritten < 400 * chunk.length, 'answered before the client finished sending')
  })

  it('refuses a body shorter than its content-length once the client gives up, without hanging', async () => {
    const q = query('Group.CallbackAfterRecallMsg', { token: TOKEN })
    const head = `POST /?${q} HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n`
    await assert.rejects(
      rawExchange(server.port, head, (s) => s.end('{"GroupId":'), 300),
      /no answer/,
    )
    // The server is still serving.
    const ok = await post('Group.CallbackAfterRecallMsg', JSON.stringify(groupRecall()))
    assert.equal(ok.status, 200)
  })

  it('accepts a body of exactly the limit', async () => {
    const body = JSON.stringify({ ...groupRecall(), Pad: '' })
    const padded = body.replace('"Pad":""', `"Pad":"${'x'.repeat(limit - body.length)}"`)
    assert.equal(Buffer.byteLength(padded), limit)
    assert.equal((await post('Group.CallbackAfterRecallMsg', padded)).status, 200)
  })

  it('a stream already consumed by a middleware is explained, or used when the bytes were kept in req.rawBody — never a hang', async () => {
    const onCallback = toNodeHandler(receiver)
    const drained = await listen(async (req, res) => {
      const chunks: Buffer[] = []
      for await (const chunk of req) chunks.push(chunk as Buffer)
      if (req.url?.startsWith('/kept')) (req as { rawBody?: Buffer }).rawBody = Buffer.concat(chunks)
      onCallback(req, res)
    })
    try {
      const q = query('Group.CallbackAfterRecallMsg', { token: TOKEN })
      const init = { method: 'POST', body: JSON.stringify(groupRecall()), signal: AbortSignal.timeout(3000) }
      const lost = await fetch(`${drained.url}/lost?${q}`, init)
      assert.equal(lost.status, 500)
      assert.match(((await lost.json()) as { ErrorInfo: string }).ErrorInfo, /^TIMHOOK_BODY_ALREADY_PARSED/)
      const kept = await fetch(`${drained.url}/kept?${q}`, init)
      assert.equal(kept.status, 200)
    } finally {
      await drained.close()
    }
  })

  it('rejects with the FAIL envelope over the socket (wrong SdkAppid)', async () => {
    const q = query('Group.CallbackAfterRecallMsg', { token: TOKEN, extra: { SdkAppid: '1' } })
    const res = await fetch(`${server.url}/?${q}`, { method: 'POST', body: JSON.stringify(groupRecall()) })
    assert.equal(res.status, 403)
    const a = (await res.json()) as { ActionStatus: string; ErrorInfo: string }
    assert.equal(a.ActionStatus, 'FAIL')
    assert.match(a.ErrorInfo, /^TIMHOOK_SDKAPPID_MISMATCH/)
  })
})

describe('node:http adapter: a rewritten answer', () => {
  // A stamp-like rewrite: the message's own elements plus one, echoing text in any script.
  const receiver = createReceiver({ sdkAppId: APP, token: TOKEN })
  const stamp = { MsgType: 'TIMCustomElem' as const, MsgContent: { Data: 'LV0', Desc: 'CustomElement.MemberLevel' } }
  receiver.on('Group.CallbackBeforeSendMsg', (e) => verdict.allow({ msgBody: [...e.MsgBody, stamp] }))
  let server: Awaited<ReturnType<typeof listen>>
  before(async () => (server = await listen(toNodeHandler(receiver))))
  after(() => server.close())

  it('goes out as the UTF-8 bytes of its JSON, with their length, and the connection stays usable', async () => {
    // Two-byte (CJK), astral (a surrogate pair), escaped and plain text, one after another (fetch keeps the connection).
    for (const text of ['今晚八点开会，别迟到 — see you at 8pm!', 'emoji 😀 and "quotes" \\ \n', 'plain ascii', '']) {
      const event = groupBeforeSend(text)
      const res = await fetch(`${server.url}/?${query('Group.CallbackBeforeSendMsg', { token: TOKEN })}`, {
        method: 'POST',
        body: JSON.stringify(event),
      })
      assert.equal(res.status, 200)
      assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8')
      const bytes = Buffer.from(await res.arrayBuffer())
      const expected = Buffer.from(
        JSON.stringify({ ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '', MsgBody: [...event.MsgBody, stamp] }),
        'utf8',
      )
      assert.equal(Number(res.headers.get('content-length')), expected.length)
      assert.ok(bytes.equals(expected), `answer for ${JSON.stringify(text)}: ${bytes.toString('utf8')}`)
    }
  })
})
