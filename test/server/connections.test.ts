/**
 * Connections are bounded: a request's headers and body must arrive within their timeouts, so
 * slow clients (a byte now and then) are closed near the deadline and cannot hold the server;
 * legitimate callbacks keep being answered meanwhile; past `maxConnections` a new connection is
 * closed at once and counted.
 */
import assert from 'node:assert/strict'
import net from 'node:net'
import { after, before, describe, it } from 'node:test'
import type { RunningServer } from '../../src/server/start-server.js'
import { ADMIN, APP, groupAfterSend, postCallback, startTestServer, tempDir } from './helpers.js'

const HEADERS_MS = 3000
const REQUEST_MS = 4000
const SLOW = 2000

/** Opens a connection; resolves once connected, with a promise of its close (ms after connecting). */
function connect(port: number): Promise<{ socket: net.Socket; closed: Promise<number> }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1')
    socket.once('error', reject)
    socket.once('connect', () => {
      const opened = performance.now()
      socket.off('error', reject)
      socket.on('error', () => {}) // a reset by the server is how some of them end
      socket.resume() // read (and drop) a 408 answer
      resolve({ socket, closed: new Promise((done) => socket.once('close', () => done(performance.now() - opened))) })
    })
  })
}

/** Rejects after `ms`: a bound on a wait for events, failing the test instead of hanging it. */
const within = <T>(ms: number, what: string, p: Promise<T>) =>
  Promise.race([
    p,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms).unref()),
  ])

describe('connection limits', () => {
  const tmp = tempDir()
  let server: RunningServer
  before(async () => {
    server = await startTestServer({ db: `${tmp.dir}/c.db`, headersTimeoutMs: HEADERS_MS, requestTimeoutMs: REQUEST_MS })
  })
  after(async () => {
    await server?.close()
    tmp.cleanup()
  })

  it(`closes ${SLOW} slow connections near their timeout, while legitimate callbacks are answered`, async () => {
    const head = `POST /?SdkAppid=${APP}&CallbackCommand=Group.CallbackAfterSendMsg HTTP/1.1\r\nHost: x\r\n`
    const slow = await Promise.all(Array.from({ length: SLOW }, () => connect(server.port)))
    let closed = 0
    for (const [i, c] of slow.entries()) {
      void c.closed.then(() => closed++)
      // Half trickle their headers, half send headers and trickle a body that never completes.
      c.socket.write(i % 2 === 0 ? head : `${head}content-type: application/json\r\ncontent-length: 100000\r\n\r\n{`)
    }
    assert.equal(closed, 0, `all ${SLOW} are open at once`)
    let ticks = 0
    const trickle = setInterval(() => {
      ticks++
      for (const { socket } of slow) if (!socket.destroyed) socket.write(socket.bytesWritten % 2 === 0 ? 'x' : ' ')
    }, 250)
    try {
      for (let i = 1; i <= 20; i++) {
        const { status, answer } = await postCallback(server.url, groupAfterSend('busy', i))
        assert.equal(status, 200)
        assert.equal(answer.ActionStatus, 'OK')
      }
      const lifetimes = await within(30_000, `closing the ${SLOW} slow connections`, Promise.all(slow.map((c) => c.closed)))
      assert.ok(ticks > 0, 'they trickled')
      const longest = Math.max(...lifetimes)
      // The deadline plus Node's check interval (a quarter of the headers timeout), with room for a
      // machine busy with other tests (2,000 sockets in one process); Node's defaults held them 300 s.
      assert.ok(longest < 4 * REQUEST_MS, `the longest slow connection lived ${Math.round(longest)} ms`)
    } finally {
      clearInterval(trickle)
      for (const { socket } of slow) socket.destroy()
    }
    const { status } = await postCallback(server.url, groupAfterSend('busy', 21))
    assert.equal(status, 200)
  })

  it('closes a connection past maxConnections at once, and counts it', async () => {
    const t = tempDir()
    const capped = await startTestServer({ db: `${t.dir}/cap.db`, maxConnections: 5, headersTimeoutMs: 500, requestTimeoutMs: 500 })
    try {
      const open = await Promise.all(Array.from({ length: 5 }, () => connect(capped.port)))
      const extra = await connect(capped.port)
      const lived = await within(5000, 'closing the connection past the cap', extra.closed)
      assert.ok(lived < 500, `closed at once (${Math.round(lived)} ms), not by the headers timeout`)
      // The five idle ones are closed by the headers timeout; then callbacks get through again.
      await within(10_000, 'closing the idle connections', Promise.all(open.map((c) => c.closed)))
      assert.equal((await postCallback(capped.url, groupAfterSend('after-cap', 1))).status, 200)
      const metrics = await (await fetch(`${capped.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } })).text()
      assert.match(metrics, /^timhook_connections_dropped_total 1$/m)
    } finally {
      await capped.close()
      t.cleanup()
    }
  })
})
