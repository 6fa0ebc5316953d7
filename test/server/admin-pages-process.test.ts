/**
 * With the SQLite readers in a child process (the default), an admin page's bytes are written into
 * the client's connection by the child, serve writing only the headers. The answers are the same
 * bytes the page renders to, on fresh, kept-alive and pipelined connections (the next request on
 * a connection is read by serve, never by the child), and over HTTPS, where the child cannot write
 * and serve writes the bytes itself.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import https from 'node:https'
import net from 'node:net'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { Pool } from 'undici'
import type { RunningServer } from '../../src/server/start-server.js'
import { pageJson } from '../../src/store/page-json.js'
import { ADMIN, groupAfterSend, postCallback, selfSigned, startTestServer, tempDir } from './helpers.js'

const auth = { authorization: `Bearer ${ADMIN}` }
const QUERIES = [
  '/api/messages?limit=40',
  '/api/messages?limit=7&groupId=%40pages',
  '/api/events?limit=25',
  '/api/stats',
  '/api/messages?limit=3',
]

describe('admin pages written by the reader process', () => {
  const t = tempDir()
  let server: RunningServer
  /** What each query answers, rendered here from the store's page. */
  const expected = new Map<string, string>()

  before(async () => {
    server = await startTestServer({ db: join(t.dir, 'pages.db') })
    const text = 'y'.repeat(20_000) + '今晚'
    for (let i = 1; i <= 60; i++) await postCallback(server.url, groupAfterSend(i % 2 === 0 ? '@pages' : '@other', i, `${i} ${text}`))
    expected.set(QUERIES[0]!, pageJson(await server.store.listMessages({ limit: 40 })))
    expected.set(QUERIES[1]!, pageJson(await server.store.listMessages({ limit: 7, groupId: '@pages' })))
    expected.set(QUERIES[2]!, pageJson(await server.store.listEvents({ limit: 25 })))
    expected.set(QUERIES[4]!, pageJson(await server.store.listMessages({ limit: 3 })))
  })
  after(async () => {
    await server.close()
    t.cleanup()
  })

  const check = (path: string, status: number, body: string) => {
    assert.equal(status, 200, `${path}: ${body.slice(0, 200)}`)
    if (expected.has(path)) assert.equal(body, expected.get(path), path)
    else assert.equal((JSON.parse(body) as { messages: { total: number } }).messages.total, 60)
  }

  it('answers each page whole on one kept-alive connection, request after request', async () => {
    const pool = new Pool(server.url, { connections: 1, pipelining: 1 })
    try {
      for (let round = 0; round < 3; round++)
        for (const path of QUERIES) {
          const res = await pool.request({ method: 'GET', path, headers: auth })
          check(path, res.statusCode, await res.body.text())
        }
    } finally {
      await pool.close()
    }
  })

  it('answers pipelined requests on one connection in order, each whole', async () => {
    const pool = new Pool(server.url, { connections: 1, pipelining: 8 })
    try {
      const paths = [...QUERIES, ...QUERIES, ...QUERIES].filter((p) => p !== '/api/stats')
      const answers = await Promise.all(
        paths.map(async (path) => {
          const res = await pool.request({ method: 'GET', path, headers: auth })
          return { path, status: res.statusCode, body: await res.body.text() }
        }),
      )
      // Four admin reads at once at most: a 503 is an answer too, whole and in its place.
      for (const a of answers) if (a.status !== 503) check(a.path, a.status, a.body)
      assert.ok(answers.filter((a) => a.status === 200).length >= 4)
    } finally {
      await pool.close()
    }
  })

  it('answers HEAD with the headers only: the request after it on the connection gets its own answer', async () => {
    const path = QUERIES[4]!
    const ask = (method: string, p: string, close = false) =>
      `${method} ${p} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${ADMIN}\r\n${close ? 'connection: close\r\n' : ''}\r\n`
    const socket = net.connect(Number(new URL(server.url).port), new URL(server.url).hostname)
    socket.write(ask('HEAD', path) + ask('GET', path, true))
    const chunks: Buffer[] = []
    for await (const chunk of socket) chunks.push(chunk as Buffer)
    const text = Buffer.concat(chunks).toString('utf8')
    const end = text.indexOf('\r\n\r\n') + 4
    const head = text.slice(0, end)
    assert.match(head, /^HTTP\/1\.1 200 /)
    assert.match(head, new RegExp(`content-length: ${Buffer.byteLength(expected.get(path)!)}\r\n`, 'i'))
    const next = text.slice(end)
    assert.match(next, /^HTTP\/1\.1 200 /, `after the HEAD answer: ${next.slice(0, 80)}`)
    assert.equal(next.slice(next.indexOf('\r\n\r\n') + 4), expected.get(path))
  })
})

describe(
  'admin pages over HTTPS with the readers in a child process',
  { skip: spawnSync('openssl', ['version']).status === 0 ? false : 'no openssl' },
  () => {
    it('are written by serve itself, whole', async () => {
      const t = tempDir()
      const { cert, key } = selfSigned(t.dir, 'localhost')
      const server = await startTestServer({ db: join(t.dir, 'tls.db'), tlsCert: cert, tlsKey: key })
      try {
        await server.store.write({
          command: 'Group.CallbackAfterSendMsg',
          sdkAppId: '1400000000',
          clientIp: null,
          optPlatform: null,
          receivedAt: Date.now(),
          requestId: 'r1',
          rawBody: Buffer.from(JSON.stringify(groupAfterSend('@tls', 1))),
          body: groupAfterSend('@tls', 1),
          valid: true,
          decision: null,
        })
        const body = await new Promise<string>((resolve, reject) => {
          https
            .get(`${server.url}/api/messages?limit=5`, { headers: auth, rejectUnauthorized: false }, (res) => {
              let text = ''
              res.setEncoding('utf8')
              res.on('data', (c: string) => (text += c))
              res.on('end', () => (res.statusCode === 200 ? resolve(text) : reject(new Error(`${res.statusCode} ${text}`))))
            })
            .on('error', reject)
        })
        assert.equal(body, pageJson(await server.store.listMessages({ limit: 5 })))
      } finally {
        await server.close()
        t.cleanup()
      }
    })
  },
)
