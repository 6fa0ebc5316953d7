/**
 * The admin API answers a store read refused for its limits — past its time budget, or past the
 * limit of reads at once — with 503, a code naming which, the store's message naming the limit,
 * and Retry-After; any other store failure stays a generic 503.
 */
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Writable } from 'node:stream'
import { after, before, describe, it } from 'node:test'
import { createAdminApi } from '../../src/server/admin-api.js'
import { createLogger } from '../../src/server/logger.js'
import { StoreBusyError, StoreTimeoutError } from '../../src/store/store-query-error.js'
import type { Store } from '../../src/store/store.js'
import { ADMIN } from './helpers.js'

describe('admin API past the store’s read limits', () => {
  let server: Server
  let url: string
  before(async () => {
    // The store's reads fail as the SQLite readers fail them (test/store/sqlite-reader.test.ts shows when).
    const store = {
      listMessagesJson: () => Promise.reject(new StoreTimeoutError(5000, 'its reader thread was still on it')),
      stats: () => Promise.reject(new StoreBusyError(4)),
      listEventsJson: () => Promise.reject(new Error('disk I/O error')),
    } as unknown as Store
    const handler = createAdminApi(store, ADMIN, createLogger('silent', new Writable({ write: (_c, _e, cb) => cb() })))
    server = createServer((req, res) => {
      const [path, query = ''] = (req.url ?? '/').split('?')
      handler(req, res, path!, query)
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  after(() => new Promise<void>((resolve) => server.close(() => resolve())))

  const get = async (path: string) => {
    const res = await fetch(url + path, { headers: { authorization: `Bearer ${ADMIN}` } })
    return {
      status: res.status,
      retryAfter: res.headers.get('retry-after'),
      body: (await res.json()) as { error: { code: string; message: string } },
    }
  }

  it('a read past its budget: 503 STORE_TIMEOUT naming the budget', async () => {
    const r = await get('/api/messages')
    assert.equal(r.status, 503)
    assert.equal(r.body.error.code, 'STORE_TIMEOUT')
    assert.match(r.body.error.message, /5000 ms budget/)
    assert.equal(r.retryAfter, '1')
  })

  it('past the limit of reads at once: 503 TOO_MANY_READS naming the limit', async () => {
    const r = await get('/api/stats')
    assert.equal(r.status, 503)
    assert.equal(r.body.error.code, 'TOO_MANY_READS')
    assert.match(r.body.error.message, /4 admin reads are running already/)
  })

  it('any other failure: 503 STORE_UNAVAILABLE', async () => {
    const r = await get('/api/events')
    assert.equal(r.status, 503)
    assert.equal(r.body.error.code, 'STORE_UNAVAILABLE')
    assert.equal(r.retryAfter, null)
  })
})

describe('admin read limits from the configuration', () => {
  it('maxAdminReads reaches the SQLite store: reads past it at once get 503 TOO_MANY_READS, the others 200', async () => {
    const { startTestServer, tempDir } = await import('./helpers.js')
    const t = tempDir()
    const server = await startTestServer({ db: `${t.dir}/limits.db`, maxAdminReads: 1, adminReadTimeoutMs: 60_000 })
    try {
      const answers = await Promise.all(
        Array.from({ length: 3 }, () =>
          fetch(`${server.url}/api/events?limit=500`, { headers: { authorization: `Bearer ${ADMIN}` } }).then(
            async (r) => [r.status, ((await r.json()) as { error?: { code: string } }).error?.code ?? ''] as const,
          ),
        ),
      )
      assert.ok(
        answers.some(([s]) => s === 200),
        JSON.stringify(answers),
      )
      assert.ok(
        answers.some(([s, code]) => s === 503 && code === 'TOO_MANY_READS'),
        JSON.stringify(answers),
      )
      assert.ok(
        answers.every(([s, code]) => s === 200 || code === 'TOO_MANY_READS'),
        JSON.stringify(answers),
      )
    } finally {
      await server.close()
      t.cleanup()
    }
  })
})
