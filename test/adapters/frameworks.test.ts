import assert from 'node:assert/strict'
import type { AddressInfo } from 'node:net'
import { describe, it } from 'node:test'
import express from 'express'
import Fastify from 'fastify'
import { Hono } from 'hono'
import { serve } from '@hono/node-server'
import { createReceiver } from '../../src/receiver/index.js'
import { timhookFastify } from '../../src/adapters/fastify.js'
import { toFetchHandler } from '../../src/adapters/fetch.js'
import { toNodeHandler } from '../../src/adapters/node.js'
import { verdict } from '../../src/protocol/verdict.js'
import { APP, TOKEN, c2cWithdraw, groupBeforeSend, query } from '../helpers/callbacks.js'
import { rawExchange } from '../helpers/http.js'

function makeReceiver(bodyLimit?: number) {
  const receiver = createReceiver({ sdkAppId: APP, token: TOKEN, bodyLimit })
  const withdrawn: string[] = []
  receiver.on('Group.CallbackBeforeSendMsg', (e) =>
    JSON.stringify(e.MsgBody).includes('spam') ? verdict.deny({ code: 10101, info: 'no spam' }) : verdict.allow(),
  )
  receiver.on('C2C.CallbackAfterMsgWithDraw', (e) => void withdrawn.push(e.MsgKey))
  return { receiver, withdrawn }
}

/** The same three exchanges against any mounted receiver. */
async function exercise(base: string, withdrawn: string[]) {
  const url = (command: string, token = TOKEN) => `${base}?${query(command, { token })}`
  // No content-type header, as Tencent sends it: fetch adds text/plain for a string body, so send bytes.
  const bytes = (o: object) => new TextEncoder().encode(JSON.stringify(o))
  const deny = await fetch(url('Group.CallbackBeforeSendMsg'), { method: 'POST', body: bytes(groupBeforeSend('spam!')) })
  assert.equal(deny.status, 200)
  assert.deepEqual(await deny.json(), { ActionStatus: 'OK', ErrorCode: 10101, ErrorInfo: 'no spam' })
  const ok = await fetch(url('C2C.CallbackAfterMsgWithDraw'), {
    method: 'POST',
    body: JSON.stringify(c2cWithdraw()),
    headers: { 'content-type': 'application/json' },
  })
  assert.deepEqual(await ok.json(), { ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '' })
  assert.deepEqual(withdrawn, ['48374_2837546_1557481126'])
  const bad = await fetch(url('C2C.CallbackAfterMsgWithDraw', 'wrong'), { method: 'POST', body: JSON.stringify(c2cWithdraw()) })
  assert.equal(bad.status, 401)
  assert.match(((await bad.json()) as { ErrorInfo: string }).ErrorInfo, /^TIMHOOK_SIGN_MISMATCH/)
}

describe('Express', () => {
  it('mounts toNodeHandler(receiver) on a route and answers over a real socket', async () => {
    const { receiver, withdrawn } = makeReceiver()
    const app = express()
    app.post('/tim/callback', toNodeHandler(receiver))
    app.use(express.json()) // other routes may parse JSON: the callback route is mounted first
    const server = app.listen(0, '127.0.0.1')
    await new Promise((resolve) => server.once('listening', resolve))
    try {
      await exercise(`http://127.0.0.1:${(server.address() as AddressInfo).port}/tim/callback`, withdrawn)
    } finally {
      server.closeAllConnections()
      server.close()
    }
  })

  it('explains a body that express.json() already parsed, and accepts one from express.raw()', async () => {
    const { receiver } = makeReceiver()
    const app = express()
    app.post('/parsed', express.json(), toNodeHandler(receiver))
    app.post('/raw', express.raw({ type: '*/*' }), toNodeHandler(receiver))
    const server = app.listen(0, '127.0.0.1')
    await new Promise((resolve) => server.once('listening', resolve))
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    try {
      const init = { method: 'POST', body: JSON.stringify(c2cWithdraw()), headers: { 'content-type': 'application/json' } }
      const parsed = await fetch(`${base}/parsed?${query('C2C.CallbackAfterMsgWithDraw', { token: TOKEN })}`, init)
      assert.equal(parsed.status, 500)
      assert.match(((await parsed.json()) as { ErrorInfo: string }).ErrorInfo, /TIMHOOK_BODY_ALREADY_PARSED.*express\.json/)
      const raw = await fetch(`${base}/raw?${query('C2C.CallbackAfterMsgWithDraw', { token: TOKEN })}`, init)
      assert.equal(raw.status, 200)
    } finally {
      server.closeAllConnections()
      server.close()
    }
  })
})

describe('Fastify plugin', () => {
  it('serves the receiver under a prefix over a real socket, leaving other routes their JSON parser', async () => {
    const { receiver, withdrawn } = makeReceiver()
    const app = Fastify()
    await app.register(timhookFastify, { receiver, prefix: '/tim' })
    app.post('/other', async (req) => ({ echoed: req.body }))
    await app.listen({ port: 0, host: '127.0.0.1' })
    const port = (app.server.address() as AddressInfo).port
    try {
      await exercise(`http://127.0.0.1:${port}/tim/`, withdrawn)
      const other = await fetch(`http://127.0.0.1:${port}/other`, {
        method: 'POST',
        body: '{"a":1}',
        headers: { 'content-type': 'application/json' },
      })
      assert.deepEqual(await other.json(), { echoed: { a: 1 } })
    } finally {
      await app.close()
    }
  })

  it('refuses an over-limit body with 413 by content-length, without reading it', async () => {
    const { receiver } = makeReceiver(1024)
    const app = Fastify()
    await app.register(timhookFastify, { receiver, prefix: '/tim' })
    await app.listen({ port: 0, host: '127.0.0.1' })
    const port = (app.server.address() as AddressInfo).port
    try {
      const head = `POST /tim/?${query('C2C.CallbackAfterMsgWithDraw', { token: TOKEN })} HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n`
      const res = await rawExchange(port, head, () => {})
      assert.equal(res.status, 413)
      assert.match(res.text, /TIMHOOK_BODY_TOO_LARGE/)
    } finally {
      await app.close()
    }
  })
})

describe('Fetch API (Hono on @hono/node-server)', () => {
  it('answers through toFetchHandler(receiver) over a real socket', async () => {
    const { receiver, withdrawn } = makeReceiver()
    const app = new Hono()
    app.post('/tim', (c) => toFetchHandler(receiver)(c.req.raw))
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' })
    await new Promise((resolve) => server.once('listening', resolve))
    try {
      await exercise(`http://127.0.0.1:${(server.address() as AddressInfo).port}/tim`, withdrawn)
    } finally {
      server.close()
    }
  })

  it('reads the query up to a fragment, and never from one (Request keeps #…, URL.search drops it)', async () => {
    const { receiver } = makeReceiver()
    const q = query('C2C.CallbackAfterMsgWithDraw', { token: TOKEN })
    const post = (url: string) => toFetchHandler(receiver)(new Request(url, { method: 'POST', body: JSON.stringify(c2cWithdraw()) }))
    assert.equal((await post(`http://x/tim?${q}#frag`)).status, 200)
    const inFragment = await post(`http://x/tim#?${q}`)
    assert.equal(inFragment.status, 400)
    assert.match(await inFragment.text(), /TIMHOOK_SDKAPPID_MISSING/)
  })

  it('refuses a streamed body that grows past the limit (413) and a body already read', async () => {
    const { receiver } = makeReceiver(1000)
    const q = query('C2C.CallbackAfterMsgWithDraw', { token: TOKEN })
    let pulls = 0
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulls++
        controller.enqueue(new Uint8Array(300).fill(32))
        if (pulls > 1000) controller.close()
      },
    })
    const big = await toFetchHandler(receiver)(
      new Request(`http://x/?${q}`, { method: 'POST', body: stream, duplex: 'half' } as RequestInit),
    )
    assert.equal(big.status, 413)
    assert.ok(pulls < 10, `stopped reading after ${pulls} chunks`)
    const used = new Request(`http://x/?${q}`, { method: 'POST', body: JSON.stringify(c2cWithdraw()) })
    await used.text()
    const res = await toFetchHandler(receiver)(used)
    assert.equal(res.status, 500)
    assert.match(await res.text(), /TIMHOOK_BODY_ALREADY_PARSED/)
  })
})
