/**
 * The admin API serves whatever the store holds — rows written before the nesting limit existed,
 * bodies that are not JSON, bodies of any size — without crashing and with bounded memory: a page
 * has a byte budget, a large body is left out of its page and served whole by its own endpoint,
 * and nothing any handler does can throw past its request.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { MAX_BODY_DEPTH } from '../../src/protocol/parse-json.js'
import { BODY_CHUNK, PAGE_BYTES } from '../../src/server/admin-api.js'
import type { RunningServer } from '../../src/server/start-server.js'
import { INLINE_BODY_BYTES } from '../../src/store/sql.js'
import type { CallbackRecord } from '../../src/store/records.js'
import { nestedText } from '../helpers/deep-bodies.js'
import { ADMIN, admin, captureLogs, groupAfterSend, startTestServer, tempDir } from './helpers.js'

let seq = 0
/** A record as the store takes it, written directly: no receiver (and so no limit) in front. */
function stored(command: string, raw: Buffer, body: Record<string, unknown> = {}): CallbackRecord {
  seq++
  return {
    command,
    sdkAppId: '1400000000',
    clientIp: null,
    optPlatform: null,
    receivedAt: 1_700_000_000_000 + seq,
    requestId: `old-${seq}`,
    rawBody: raw,
    body,
    valid: false,
    decision: null,
  }
}

/** A body nested `depth` levels as an object, built without recursion. */
function nestedObject(depth: number): unknown[] {
  const root: unknown[] = []
  let at = root
  for (let i = 2; i < depth; i++) {
    const next: unknown[] = []
    at.push(next)
    at = next
  }
  return root
}

async function raw(url: string, path: string): Promise<{ status: number; type: string | null; length: string | null; bytes: Buffer }> {
  const res = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${ADMIN}` } })
  return {
    status: res.status,
    type: res.headers.get('content-type'),
    length: res.headers.get('content-length'),
    bytes: Buffer.from(await res.arrayBuffer()),
  }
}

describe('admin API over any stored row', () => {
  const tmp = tempDir()
  const logs = captureLogs()
  let server: RunningServer
  before(async () => {
    server = await startTestServer({ db: `${tmp.dir}/bounded.db` }, logs.stream)
  })
  after(async () => {
    await server?.close()
    tmp.cleanup()
  })

  it('serves rows stored before the nesting limit existed as text with a note, and keeps serving', async () => {
    const deep = nestedText(6000, { CallbackCommand: 'Vendor.CallbackSomethingNew' })
    await server.store.write(stored('Vendor.CallbackSomethingNew', Buffer.from(deep)))
    await server.store.write(
      stored('Group.CallbackBeforeSendMsg', Buffer.from(nestedText(MAX_BODY_DEPTH + 1)), { GroupId: 'g', From_Account: 'a', Random: 1 }),
    )
    // A message whose stored JSON is 2,000 deep (its after-send was accepted by an older version).
    const message = { ...groupAfterSend('old-room', 1), MsgBody: nestedObject(2000) }
    await server.store.write(stored('Group.CallbackAfterSendMsg', Buffer.from(JSON.stringify(message)), message))
    await server.store.write(stored('Vendor.CallbackSomethingNew', Buffer.from([0x7b, 0xff, 0xfe, 0x22])))

    for (let round = 0; round < 2; round++) {
      const events = await admin(server.url, '/api/events?limit=10')
      assert.equal(events.status, 200)
      const items = events.body.items as Array<Record<string, unknown>>
      assert.deepEqual(
        items.map((i) => (i.bodyNote as { reason: string } | undefined)?.reason),
        ['NOT_JSON', 'TOO_DEEP', 'TOO_DEEP', 'TOO_DEEP'],
      )
      assert.equal(items[3]!.body, deep, 'the raw text, as stored')
      assert.equal((items[3]!.bodyNote as { size: number }).size, deep.length)
      const messages = await admin(server.url, '/api/messages?groupId=old-room')
      assert.equal(messages.status, 200)
      const [m] = messages.body.items as Array<Record<string, unknown>>
      assert.deepEqual(
        [m!.GroupId, m!.MsgSeq, m!.From_Account, (m!.bodyNote as { reason: string }).reason],
        ['old-room', 1, 'alice', 'TOO_DEEP'],
      )
      assert.equal(m!.body, JSON.stringify(message))
    }
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200)
  })

  it('leaves a large body out of its page and serves it whole, exactly, from its own endpoint', async () => {
    const big = Buffer.from(JSON.stringify({ CallbackCommand: 'Vendor.Big', Data: 'é'.repeat(3 * BODY_CHUNK) }))
    await server.store.write(stored('Vendor.Big', big))
    const message = { ...groupAfterSend('big-room', 1), CloudCustomData: 'x'.repeat(INLINE_BODY_BYTES + 10) }
    await server.store.write(stored('Group.CallbackAfterSendMsg', Buffer.from(JSON.stringify(message)), message))

    const events = await admin(server.url, '/api/events?command=Vendor.Big')
    const [item] = events.body.items as Array<Record<string, unknown>>
    assert.equal(item!.body, null)
    assert.deepEqual(item!.bodyNote, { reason: 'TOO_LARGE', size: big.length })
    const whole = await raw(server.url, `/api/events/${item!.id as string}/raw`)
    assert.equal(whole.status, 200)
    assert.equal(whole.type, 'application/octet-stream')
    assert.equal(whole.length, String(big.length))
    assert.ok(whole.bytes.equals(big), 'the bytes as received')

    const messages = await admin(server.url, '/api/messages?groupId=big-room')
    const [m] = messages.body.items as Array<Record<string, unknown>>
    assert.deepEqual([m!.MsgSeq, m!.body, (m!.bodyNote as { reason: string }).reason], [1, null, 'TOO_LARGE'])
    const body = await raw(server.url, `/api/messages/${m!.id as string}/body`)
    assert.equal(body.status, 200)
    assert.deepEqual(JSON.parse(body.bytes.toString('utf8')), message)
  })

  it('answers 400 for a malformed id and 404 for a missing row or a wrong endpoint', async () => {
    assert.equal((await admin(server.url, '/api/events/abc/raw')).status, 400)
    assert.equal((await admin(server.url, '/api/events/99999999/raw')).status, 404)
    assert.equal((await admin(server.url, '/api/events/1/body')).status, 404)
    assert.equal((await admin(server.url, '/api/messages/1/raw')).status, 404)
  })

  it('stops a page at its byte budget; its cursor continues after the last item it holds', async () => {
    const size = INLINE_BODY_BYTES - 1000
    for (let i = 0; i < 40; i++)
      await server.store.write(stored('Vendor.Wide', Buffer.from(JSON.stringify({ n: i, pad: 'p'.repeat(size) }))))
    const seen: number[] = []
    let cursor: string | null = null
    let pages = 0
    do {
      const res = await fetch(`${server.url}/api/events?command=Vendor.Wide&limit=500${cursor ? `&cursor=${cursor}` : ''}`, {
        headers: { authorization: `Bearer ${ADMIN}` },
      })
      const text = await res.text()
      assert.ok(Buffer.byteLength(text) <= PAGE_BYTES + 200, `page of ${Buffer.byteLength(text)} bytes`)
      const page = JSON.parse(text) as { items: Array<{ body: { n: number } }>; nextCursor: string | null }
      assert.ok(page.items.length > 0)
      seen.push(...page.items.map((i) => i.body.n))
      cursor = page.nextCursor
      pages++
    } while (cursor !== null)
    assert.ok(pages >= 3, `${pages} pages`)
    assert.deepEqual(
      seen,
      Array.from({ length: 40 }, (_, i) => 39 - i),
      'every item once, newest first',
    )
  })

  it('answers 500 with a named code, and logs, when a handler throws', async () => {
    const registry = server.metrics.registry
    const original = registry.metrics.bind(registry)
    registry.metrics = () => {
      throw new Error('metrics exploded')
    }
    try {
      const res = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } })
      assert.equal(res.status, 500)
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'INTERNAL')
      assert.ok(logs.lines.some((l) => String(l.err).includes('metrics exploded')))
    } finally {
      registry.metrics = original
    }
    const store = server.store as { stats: () => Promise<unknown> }
    const stats = store.stats
    store.stats = () => Promise.resolve({ total: 1n })
    try {
      const res = await admin(server.url, '/api/stats')
      assert.ok(res.status >= 500, 'answered, not thrown')
    } finally {
      store.stats = stats
    }
    assert.equal((await admin(server.url, '/api/stats')).status, 200)
  })
})
