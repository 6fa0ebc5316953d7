/** The admin API over HTTP: bearer auth, filters, pagination, parameter errors, stats. */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { RunningServer } from '../../src/server/start-server.js'
import { ADMIN, admin, groupAfterSend, groupRecall, postCallback, startTestServer, tempDir } from './helpers.js'

describe('admin API', () => {
  const tmp = tempDir()
  let server: RunningServer
  before(async () => {
    server = await startTestServer({ db: `${tmp.dir}/a.db` })
    for (let i = 1; i <= 12; i++) await postCallback(server.url, groupAfterSend('room', i))
    await postCallback(server.url, groupAfterSend('other', 1))
    await postCallback(server.url, groupRecall('room', [2, 5]))
  })
  after(async () => {
    await server?.close()
    tmp.cleanup()
  })

  it('answers 401 without a token, with a wrong one, and for every endpoint', async () => {
    for (const path of ['/api/messages', '/api/events', '/api/stats', '/api/nope']) {
      assert.equal((await admin(server.url, path, null)).status, 401)
      assert.equal((await admin(server.url, path, 'x'.repeat(ADMIN.length))).status, 401)
    }
    const res = await fetch(`${server.url}/api/stats`, { headers: { authorization: `Basic ${ADMIN}` } })
    assert.equal(res.status, 401)
    assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer/)
    await res.body?.cancel()
  })

  it('is closed (401) when no admin token is configured', async () => {
    const t = tempDir()
    const closed = await startTestServer({ db: `${t.dir}/c.db`, adminToken: undefined })
    try {
      const res = await admin(closed.url, '/api/stats', ADMIN)
      assert.equal(res.status, 401)
      assert.match(String((res.body.error as { message: string }).message), /--admin-token/)
    } finally {
      await closed.close()
      t.cleanup()
    }
  })

  it('lists messages with Tencent field names, recall state, filters and cursor pagination', async () => {
    const seen: number[] = []
    let cursor: string | null = null
    do {
      const res = await admin(server.url, `/api/messages?groupId=room&limit=5${cursor ? `&cursor=${cursor}` : ''}`)
      assert.equal(res.status, 200)
      const items = res.body.items as Array<Record<string, unknown>>
      assert.ok(items.length <= 5)
      for (const m of items) {
        assert.equal(m.GroupId, 'room')
        assert.ok('MsgSeq' in m && 'From_Account' in m && 'MsgBody' in m && 'recalledAt' in m && 'recalledBy' in m)
        seen.push(m.MsgSeq as number)
      }
      cursor = res.body.nextCursor as string | null
    } while (cursor !== null)
    assert.deepEqual(seen, [12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1])
    const recalled = await admin(server.url, '/api/messages?groupId=room&recalled=true')
    assert.deepEqual(
      (recalled.body.items as Array<Record<string, unknown>>).map((m) => [m.MsgSeq, m.recalledBy]),
      [
        [5, 'moderator'],
        [2, 'moderator'],
      ],
    )
    const notRecalled = await admin(server.url, '/api/messages?groupId=room&recalled=false&limit=100')
    assert.equal((notRecalled.body.items as unknown[]).length, 10)
    const byUser = await admin(server.url, '/api/messages?from=alice&limit=100')
    assert.equal((byUser.body.items as unknown[]).length, 13)
  })

  it('lists events by command and time', async () => {
    const res = await admin(server.url, '/api/events?command=Group.CallbackAfterRecallMsg')
    const items = res.body.items as Array<Record<string, unknown>>
    assert.equal(items.length, 1)
    assert.equal((items[0]!.body as { GroupId: string }).GroupId, 'room')
    const future = await admin(server.url, `/api/events?since=${new Date(Date.now() + 3_600_000).toISOString()}`)
    assert.deepEqual(future.body.items, [])
    const past = await admin(server.url, '/api/events?until=1000&limit=1')
    assert.deepEqual(past.body, { items: [], nextCursor: null })
  })

  it('answers 400 naming the bad parameter', async () => {
    for (const [query, parameter] of [
      ['limit=0', 'limit'],
      ['limit=501', 'limit'],
      ['limit=ten', 'limit'],
      ['recalled=yes', 'recalled'],
      ['since=yesterday', 'since'],
      ['cursor=garbage', 'cursor'],
      ['group_id=room', 'group_id'],
    ] as const) {
      const res = await admin(server.url, `/api/messages?${query}`)
      assert.equal(res.status, 400, query)
      assert.equal((res.body.error as { parameter: string }).parameter, parameter)
    }
  })

  it('reports counts per command, per decision and rejections per cause', async () => {
    await postCallback(server.url, groupAfterSend('room', 99), { sdkAppId: '1' })
    await server.store.flush()
    const res = await admin(server.url, '/api/stats')
    const stats = res.body as {
      events: { byCommand: Record<string, number> }
      rejections: { byCause: Record<string, number> }
      messages: { total: number; recalled: number }
    }
    assert.equal(stats.events.byCommand['Group.CallbackAfterSendMsg'], 13)
    assert.equal(stats.events.byCommand['Group.CallbackAfterRecallMsg'], 1)
    assert.equal(stats.rejections.byCause.TIMHOOK_SDKAPPID_MISMATCH, 1)
    assert.deepEqual([stats.messages.total, stats.messages.recalled], [13, 2])
  })

  it('answers 404 for an unknown endpoint and 405 for a write', async () => {
    assert.equal((await admin(server.url, '/api/nope')).status, 404)
    const res = await fetch(`${server.url}/api/messages`, { method: 'DELETE', headers: { authorization: `Bearer ${ADMIN}` } })
    assert.equal(res.status, 405)
    await res.body?.cancel()
  })
})
