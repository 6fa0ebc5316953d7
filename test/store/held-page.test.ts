/**
 * `HeldPage.writeTo`: serve writes the headers, the holder of the page its body, into one connection.
 * The body follows the headers only once they have left serve's socket, however they were queued; a
 * connection that cannot be lent to a reader child (closed while the handle waited for the IPC channel)
 * fails that response at once, and the child lets go of the page.
 */
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import http, { type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { createStore } from '../../src/store/create-store.js'
import { HeldPage, type PageHolder } from '../../src/store/held-page.js'
import { pageJson } from '../../src/store/page-json.js'
import { openSqliteBackend } from '../../src/store/sqlite-backend.js'
import { groupSend, record } from './helpers.js'

const dir = mkdtempSync(join(tmpdir(), 'timhook-held-page-'))
after(() => rmSync(dir, { recursive: true, force: true }))

/** A server answering each request with `answer`; resolves with its URL. */
async function serve(answer: (res: ServerResponse) => void): Promise<{ server: http.Server; url: string }> {
  const server = http.createServer((_req, res) => answer(res))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }
}

const get = (url: string) =>
  new Promise<{ status: number; body: string }>((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (c: string) => (body += c))
        res.on('end', () => resolve({ status: res.statusCode!, body }))
        res.on('error', reject)
      })
      .on('error', reject)
  })

describe('HeldPage.writeTo', () => {
  it(
    'lends the connection once headers still queued in serve’s socket have left it (no drain follows a short queue)',
    { timeout: 20_000 },
    async () => {
      const body = Buffer.from(JSON.stringify({ items: ['x'.repeat(5000)], nextCursor: null }))
      let lentWith: unknown
      const { server, url } = await serve((res) => {
        const socket = res.socket as Socket
        // The state of a socket whose kernel buffer is full: the headers wait in its own queue, far
        // below its highWaterMark, so no 'drain' will be emitted when they leave.
        socket.cork()
        const holder: PageHolder = {
          write: (handle) => {
            lentWith = handle
            assert.equal(socket.writableLength, 0, 'the headers left before the body')
            return new Promise<void>((resolve, reject) => socket.write(body, (err) => (err ? reject(err) : resolve())))
          },
          fetch: () => Promise.reject(new Error('not asked')),
          drop: () => assert.fail('not dropped'),
        }
        void new HeldPage(body.byteLength, holder).writeTo(res, { 'content-type': 'application/json' })
        setImmediate(() => socket.uncork())
      })
      try {
        const res = await get(url)
        assert.equal(res.status, 200)
        assert.equal(res.body, body.toString())
        assert.ok(lentWith !== undefined)
      } finally {
        server.close()
      }
    },
  )

  it(
    'fails a response whose connection closed before it could be lent, and the child drops the page',
    { skip: existsSync('/proc/self/task') ? false : 'Linux only', timeout: 30_000 },
    async () => {
      const backend = openSqliteBackend(join(dir, 'lend.db'), { readers: 1 })
      const store = createStore(backend)
      try {
        await store.write(record(groupSend('@lend', 1)))
        const expected = pageJson(await store.listMessages({ limit: 5 }))
        const pages = [await store.listMessagesJson({ limit: 5 }), await store.listMessagesJson({ limit: 5 })]
        assert.ok(pages.every((p) => p instanceof HeldPage))
        const [first, second] = pages as HeldPage[]
        const responses: ServerResponse[] = []
        let bothArrived!: (r: ServerResponse[]) => void
        const arrived = new Promise<ServerResponse[]>((resolve) => (bothArrived = resolve))
        const { server, url } = await serve((res) => {
          responses.push(res)
          if (responses.length === 2) bothArrived(responses)
        })
        try {
          const answers = [get(url), get(url).catch((err: unknown) => err)]
          const [a, b] = await arrived
          const headers = { 'content-type': 'application/json; charset=utf-8' }
          const written = first!.writeTo(a!, headers)
          // The second handle waits for the child's acknowledgement of the first: its socket closes meanwhile.
          const lent = second!.writeTo(b!, headers)
          b!.socket!.destroy()
          await assert.rejects(lent, /could not be lent to the SQLite reader process/)
          await written
          const got = (await answers[0]) as { status: number; body: string }
          assert.deepEqual(got, { status: 200, body: expected })
          assert.ok((await answers[1]) instanceof Error)
          // The child let go of the second page: asking for it finds nothing.
          await assert.rejects(second!.bytes(), /no longer held/)
        } finally {
          server.close()
        }
      } finally {
        await store.close()
      }
    },
  )
})
