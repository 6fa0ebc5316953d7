/** `timhook serve` in-process over real sockets: recording, duplicates, health, metrics, logs. */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { RunningServer } from '../../src/server/start-server.js'
import {
  ADMIN,
  admin,
  captureLogs,
  groupAfterSend,
  groupBeforeSend,
  groupRecall,
  postCallback,
  startTestServer,
  tempDir,
} from './helpers.js'

describe('timhook serve (in-process, SQLite)', () => {
  const tmp = tempDir()
  const logs = captureLogs()
  const TOKEN = 'callback-token-never-logged'
  let server: RunningServer
  before(async () => {
    server = await startTestServer({ db: `${tmp.dir}/t.db`, token: TOKEN, callbackPath: '/tim/callback', logLevel: 'debug' }, logs.stream)
  })
  after(async () => {
    await server?.close()
    tmp.cleanup()
  })

  it('answers an after-callback OK once it is stored, with its query fields', async () => {
    const res = await postCallback(server.url, groupAfterSend('g1', 1, 'secret text 1'), { token: TOKEN })
    assert.deepEqual([res.status, res.answer], [200, { ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '' }])
    // No flush: the answer came after the commit.
    const events = await server.store.listEvents({ command: 'Group.CallbackAfterSendMsg', limit: 10 })
    assert.equal(events.items.length, 1)
    assert.deepEqual(
      [events.items[0]!.clientIp, events.items[0]!.optPlatform, events.items[0]!.sdkAppId],
      ['203.0.113.9', 'Android', '1400000000'],
    )
    assert.equal((await server.store.listMessages({ groupId: 'g1', limit: 10 })).items.length, 1)
  })

  it('stores a duplicate delivery once and answers it the same', async () => {
    const first = await postCallback(server.url, groupAfterSend('g-dup', 3), { token: TOKEN })
    const second = await postCallback(server.url, groupAfterSend('g-dup', 3), { token: TOKEN })
    assert.deepEqual(second, first)
    const events = await server.store.listEvents({ command: 'Group.CallbackAfterSendMsg', limit: 100 })
    const mine = events.items.filter((e) => (e.body as { GroupId: string }).GroupId === 'g-dup')
    assert.deepEqual(
      mine.map((e) => e.deliveries),
      [2],
    )
  })

  it('accepts callbacks at --callback-path as well as at /', async () => {
    const res = await postCallback(server.url, groupRecall('g1', [1]), { token: TOKEN, path: '/tim/callback' })
    assert.equal(res.status, 200)
    const m = (await server.store.listMessages({ groupId: 'g1', limit: 1 })).items[0]!
    assert.equal(m.recalledBy, 'moderator')
    const other = await fetch(`${server.url}/elsewhere`, { method: 'POST', body: '{}' })
    assert.equal(other.status, 404)
    await other.body?.cancel()
  })

  it('records a before-send with its verdict without making the answer wait', async () => {
    const res = await postCallback(server.url, groupBeforeSend('g-before', 77, 'secret text 2'), { token: TOKEN })
    assert.deepEqual(res.answer, { ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '' })
    await server.store.flush()
    const events = await server.store.listEvents({ command: 'Group.CallbackBeforeSendMsg', limit: 10 })
    assert.equal(events.items.length, 1)
  })

  it('rejects a bad Sign with 401, counts it by cause in stats and metrics', async () => {
    const res = await postCallback(server.url, groupAfterSend('g-bad', 1), { token: 'wrong-token' })
    assert.equal(res.status, 401)
    assert.equal(res.answer.ActionStatus, 'FAIL')
    await server.store.flush()
    const stats = await admin(server.url, '/api/stats')
    assert.equal((stats.body.rejections as { byCause: Record<string, number> }).byCause.TIMHOOK_SIGN_MISMATCH, 1)
    const metrics = await (await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } })).text()
    assert.match(metrics, /timhook_rejections_total\{cause="TIMHOOK_SIGN_MISMATCH"\} 1/)
  })

  it('exposes /healthz, /readyz and Prometheus /metrics', async () => {
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200)
    const ready = await fetch(`${server.url}/readyz`)
    assert.deepEqual([ready.status, await ready.json()], [200, { ready: true }])
    const res = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } })
    assert.match(res.headers.get('content-type') ?? '', /text\/plain/)
    const text = await res.text()
    for (const name of [
      'timhook_callbacks_total{command="Group.CallbackAfterSendMsg",outcome="ok"}',
      'timhook_callbacks_total{command="Group.CallbackBeforeSendMsg",outcome="ok"}',
      'timhook_callback_duration_seconds_bucket',
      'timhook_store_commit_duration_seconds_bucket',
      'timhook_store_batch_size_bucket',
      'timhook_store_pending_records',
    ]) {
      assert.ok(text.includes(name), `missing ${name}`)
    }
  })

  it('labels unknown commands as "unknown" in metrics (bounded labels) and still records them', async () => {
    const res = await postCallback(server.url, { CallbackCommand: 'Brand.NewCommand<script>', X: 1 }, { token: TOKEN })
    assert.equal(res.status, 200)
    const text = await (await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } })).text()
    assert.match(text, /timhook_callbacks_total\{command="unknown",outcome="ok"\} 1/)
    assert.equal((await server.store.listEvents({ command: 'Brand.NewCommand<script>', limit: 1 })).items.length, 1)
  })

  it('logs JSON lines with a request id, and never the token or message text', async () => {
    const answered = logs.lines.filter((l) => l.msg === 'callback answered')
    assert.ok(answered.length >= 5)
    for (const l of answered) assert.equal(typeof l.requestId, 'string')
    const all = JSON.stringify(logs.lines)
    assert.ok(!all.includes(TOKEN), 'the callback token appears in the logs')
    assert.ok(!all.includes('secret text'), 'message text appears in the logs')
  })
})
