/** Graceful shutdown on SIGTERM/SIGINT: stop accepting, finish in-flight requests, flush, close. */
import assert from 'node:assert/strict'
import net from 'node:net'
import { describe, it } from 'node:test'
import { openStore } from '../../src/store/open-store.js'
import { APP, groupAfterSend, spawnServer, tempDir } from './helpers.js'

describe('graceful shutdown', () => {
  it('on SIGTERM finishes the request in flight (and stores it), refuses new connections, exits 0', async () => {
    const tmp = tempDir()
    try {
      const db = `${tmp.dir}/s.db`
      const server = await spawnServer(['--db', db])
      const { port } = new URL(server.url)
      const body = JSON.stringify(groupAfterSend('shutdown', 1))
      const query = new URLSearchParams({ SdkAppid: APP, CallbackCommand: 'Group.CallbackAfterSendMsg' })
      const socket = net.connect(Number(port), '127.0.0.1')
      await new Promise((resolve) => socket.once('connect', resolve))
      let response = ''
      socket.on('data', (c: Buffer) => (response += c.toString('utf8')))
      const ended = new Promise((resolve) => socket.once('close', resolve))
      // Headers and half the body: the request is in flight.
      socket.write(
        `POST /?${query} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`,
      )
      socket.write(body.slice(0, 20))
      // A round trip on another connection proves the first request reached the server.
      const health = await fetch(`${server.url}/healthz`, { headers: { connection: 'close' } })
      await health.body?.cancel()

      server.proc.kill('SIGTERM')
      const shutting = await server.waitForLog((l) => String(l.msg).startsWith('shutting down'))
      assert.equal(shutting.inFlight, 1)
      await assert.rejects(fetch(`${server.url}/healthz`), 'a new connection was accepted after SIGTERM')

      socket.write(body.slice(20))
      await ended
      assert.match(response, /^HTTP\/1\.1 200 /)
      assert.match(response, /"ActionStatus":"OK"/)
      assert.match(response, /connection: close/i)
      const exit = await server.exited
      assert.deepEqual(exit, { code: 0, signal: null })
      assert.ok(server.lines.some((l) => l.msg === 'stopped'))

      const store = await openStore(db)
      try {
        assert.equal((await store.listMessages({ groupId: 'shutdown', limit: 10 })).items.length, 1)
      } finally {
        await store.close()
      }
    } finally {
      tmp.cleanup()
    }
  })

  it('on SIGINT stops the same way and exits 0', async () => {
    const tmp = tempDir()
    try {
      const server = await spawnServer(['--db', `${tmp.dir}/i.db`])
      server.proc.kill('SIGINT')
      assert.deepEqual(await server.exited, { code: 0, signal: null })
      assert.ok(server.lines.some((l) => l.msg === 'stopped'))
    } finally {
      tmp.cleanup()
    }
  })
})
