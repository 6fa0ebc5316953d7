/**
 * A PostgreSQL connection lost in the middle of a commit (server stopped, failover, TCP reset) must
 * reject that commit — so the callbacks in it are answered FAIL — and never crash the process.
 * A fake server speaking just enough of the PostgreSQL wire protocol drops the socket when the
 * first commit's statement arrives (a commit is one statement, its own transaction).
 */
import assert from 'node:assert/strict'
import net from 'node:net'
import { describe, it } from 'node:test'
import { openPostgresBackend } from '../../src/store/postgres-backend.js'

const msg = (type: string, body: Buffer = Buffer.alloc(0)) => {
  const head = Buffer.alloc(5)
  head.write(type, 0)
  head.writeInt32BE(body.length + 4, 1)
  return Buffer.concat([head, body])
}
const cstr = (s: string) => Buffer.from(s + '\0')

function fakePostgres(): Promise<{ port: number; close: () => void }> {
  const server = net.createServer((socket) => {
    let buf = Buffer.alloc(0)
    let started = false
    let drop = false
    socket.on('error', () => {})
    socket.on('data', (data: Buffer) => {
      buf = Buffer.concat([buf, data])
      for (;;) {
        if (!started) {
          if (buf.length < 4 || buf.length < buf.readInt32BE(0)) return
          buf = buf.subarray(buf.readInt32BE(0))
          started = true
          socket.write(msg('R', Buffer.alloc(4))) // AuthenticationOk
          socket.write(msg('Z', Buffer.from('I'))) // ReadyForQuery
          continue
        }
        if (buf.length < 5) return
        const type = String.fromCharCode(buf[0]!)
        const n = buf.readInt32BE(1)
        if (buf.length < n + 1) return
        const body = buf.subarray(5, n + 1)
        buf = buf.subarray(n + 1)
        if (type === 'P' && body.includes('timhook_apply_batch')) drop = true
        if (drop) return void socket.destroy()
        if (type === 'Q') {
          socket.write(msg('C', cstr('OK')))
          socket.write(msg('Z', Buffer.from('I')))
        } else if (type === 'P') socket.write(msg('1'))
        else if (type === 'B') socket.write(msg('2'))
        else if (type === 'D') socket.write(msg('n'))
        else if (type === 'E') socket.write(msg('C', cstr('SELECT 0')))
        else if (type === 'S') socket.write(msg('Z', Buffer.from('I')))
      }
    })
  })
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ port: (server.address() as net.AddressInfo).port, close: () => server.close() })),
  )
}

describe('PostgreSQL connection lost mid-commit', () => {
  it('rejects the commit and does not crash the process', async () => {
    const pg = await fakePostgres()
    const uncaught: unknown[] = []
    const onUncaught = (err: unknown) => void uncaught.push(err)
    process.on('uncaughtException', onUncaught)
    try {
      const backend = await openPostgresBackend(`postgres://timhook@127.0.0.1:${pg.port}/db`, { onIdleError: () => {} })
      await assert.rejects(
        async () => backend.commit([{ kind: 'rejection', cause: 'TIMHOOK_SIGN_MISMATCH' }] as never),
        /Connection terminated|terminated|ECONNRESET/i,
      )
      await new Promise((resolve) => setTimeout(resolve, 100))
      assert.deepEqual(uncaught, [], 'no unhandled error event')
      await Promise.resolve(backend.close()).catch(() => {})
    } finally {
      process.off('uncaughtException', onUncaught)
      pg.close()
    }
  })
})
