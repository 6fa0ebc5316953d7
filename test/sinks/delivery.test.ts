/**
 * `timhook serve` with a Redis Streams, a NATS JetStream and a webhook sink, against the real
 * servers, on SQLite and PostgreSQL: every acknowledged callback arrives at each sink, in the
 * store's order, in the one envelope; a webhook that fails its first attempts still gets
 * everything; a refused event is dead-lettered and re-driven; replay delivers again.
 */
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { after, before, describe, it } from 'node:test'
import type { SinkEnvelope } from '../../src/sinks/envelope.js'
import { configSchema } from '../../src/server/config.js'
import { createLogger } from '../../src/server/logger.js'
import { startServer, type RunningServer } from '../../src/server/start-server.js'
import { PG_SKIP, PG_URL, dropSchema } from '../store/helpers.js'
import { ADMIN, APP, captureLogs, groupAfterSend, groupBeforeSend, groupRecall, tempDir } from '../server/helpers.js'
import {
  NATS_SKIP,
  NATS_URL,
  REDIS_SKIP,
  REDIS_URL,
  SECRET,
  api,
  keyOf,
  metric,
  postAll,
  deleteNatsStream,
  deleteRedisKey,
  deliveryRanks,
  readNatsStream,
  readRedisStream,
  tally,
  unique,
  waitUntil,
  webhookEndpoint,
} from './helpers.js'

const SKIP = REDIS_SKIP || NATS_SKIP
interface Setup {
  db: string
  policy: string
  schema?: string
  cleanup: () => Promise<void>
}

async function setup(kind: 'sqlite' | 'postgres'): Promise<Setup> {
  const t = tempDir()
  const policy = `${t.dir}/policy.yaml`
  writeFileSync(policy, 'rules:\n  - name: no-spam\n    when: { keywords: { words: [spam] } }\n    then: deny\n')
  if (kind === 'sqlite') return { db: `${t.dir}/timhook.db`, policy, cleanup: async () => t.cleanup() }
  const schema = unique('sinks_')
  return { db: PG_URL!, schema, policy, cleanup: () => dropSchema(schema).finally(t.cleanup) }
}

for (const kind of ['sqlite', 'postgres'] as const) {
  describe(`sinks on ${kind}`, { skip: SKIP || (kind === 'postgres' && PG_SKIP) }, () => {
    let s: Setup
    let server: RunningServer
    let hook: Awaited<ReturnType<typeof webhookEndpoint>>
    const stream = unique('timhook-test:')
    const natsStream = unique('T')
    const subject = natsStream.toLowerCase()
    const logs = captureLogs()
    // The webhook refuses one event (422) while `refuse` is set, and fails the first two attempts of every 7th (503) and the first of every 11th (429).
    let refuse: string | undefined
    before(async () => {
      s = await setup(kind)
      hook = await webhookEndpoint((e, attempt) => {
        if (e.key === refuse) return 422
        if (e.id % 7 === 0 && attempt <= 2) return 503
        if (e.id % 11 === 0 && attempt === 1) return { status: 429, headers: { 'retry-after': '0' } }
        return 200
      })
      const config = configSchema.parse({
        sdkAppId: APP,
        port: 0,
        adminToken: ADMIN,
        logLevel: 'info',
        db: s.db,
        policy: s.policy,
        ...(s.schema === undefined ? {} : { pgSchema: s.schema }),
        sinks: [
          { name: 'archive', type: 'redis-stream', url: REDIS_URL, stream, maxLen: 100_000, start: 'beginning' },
          { name: 'bus', type: 'nats-jetstream', url: NATS_URL, stream: natsStream, subject: `${subject}.{command}`, start: 'beginning' },
          { name: 'billing', type: 'webhook', url: hook.url, secret: SECRET, timeoutMs: 2000, deadLetterAfter: 3, start: 'beginning' },
        ],
      })
      server = await startServer(config, {
        logger: createLogger('info', logs.stream),
        sinks: { pollMs: 100, backoff: { baseMs: 20, maxMs: 200 } },
      })
    })
    after(async () => {
      await server?.close()
      await hook?.close()
      await deleteRedisKey(REDIS_URL!, stream).catch(() => {})
      await deleteNatsStream(NATS_URL!, natsStream).catch(() => {})
      await s?.cleanup()
    })

    const bodies: Array<Record<string, unknown>> = []
    for (let i = 1; i <= 120; i++) {
      bodies.push(groupAfterSend('sinks', i))
      if (i % 10 === 0) bodies.push(groupBeforeSend('sinks', 9000 + i, i % 20 === 0 ? 'buy spam now' : 'hello'))
      if (i % 15 === 0) bodies.push(groupRecall('sinks', [i - 1]))
    }
    let acked: string[] = []

    it('delivers every acknowledged callback to each sink, in the store order, in one envelope', async () => {
      acked = await postAll(server.url, bodies)
      assert.equal(acked.length, bodies.length)
      const want = new Set(acked)
      const has = (list: SinkEnvelope[]) => want.size === new Set(list.map((e) => e.key).filter((k) => want.has(k))).size
      await waitUntil(
        'every sink to hold every acknowledged callback',
        async () =>
          has(await readRedisStream(REDIS_URL!, stream)) && has(await readNatsStream(NATS_URL!, natsStream)) && has(hook.delivered()),
      )
      const ranks = await deliveryRanks(s.db, s.schema)
      const redis = await readRedisStream(REDIS_URL!, stream)
      const nats = await readNatsStream(NATS_URL!, natsStream)
      for (const [name, got] of [
        ['redis', redis],
        ['nats', nats],
        ['webhook', hook.delivered()],
      ] as const) {
        const t = tally(acked, got, ranks)
        assert.deepEqual(
          { name, lost: t.lost, outOfOrder: t.outOfOrder },
          { name, lost: 0, outOfOrder: 0 },
          `${name}: ${JSON.stringify(t)}`,
        )
        assert.equal(t.acknowledged, bodies.length)
      }
      // The envelope: exactly these fields; the body as posted; the before-send's decision.
      const byKey = new Map(bodies.map((b) => [keyOf(b), b]))
      for (const e of redis) {
        assert.deepEqual(
          Object.keys(e).filter((k) => k !== 'field'),
          ['id', 'key', 'command', 'sdkAppId', 'receivedAt', 'event', 'decision'],
        )
        assert.deepEqual(e.event, byKey.get(e.key))
        assert.equal(e.field, e.command)
        assert.equal(e.sdkAppId, APP)
        assert.ok(Math.abs(e.receivedAt - Date.now()) < 600_000)
        if (e.command !== 'Group.CallbackBeforeSendMsg') assert.equal(e.decision, null)
        else {
          const spam = JSON.stringify(e.event).includes('spam')
          assert.deepEqual([e.decision?.verdict, e.decision?.rule], spam ? ['deny', 'no-spam'] : ['allow', null])
        }
      }
      for (const e of nats) {
        assert.equal(e.subject, `${subject}.${e.command}`)
        assert.equal(e.msgId, e.key)
      }
      for (const h of hook.hits) assert.equal(h.id, h.envelope.key)
      assert.deepEqual(hook.badSignatures, [])
      // The first attempts that failed were retried: 503s and 429s were answered, and counted.
      assert.ok(hook.hits.some((h) => h.status === 503) && hook.hits.some((h) => h.status === 429))
      assert.ok((await metric(server.url, 'timhook_sink_failures_total', 'sink="billing",reason="http_5xx"')) >= 1)
      assert.ok((await metric(server.url, 'timhook_sink_delivered_total', 'sink="archive"')) >= bodies.length)
    })

    it('reports each sink in GET /api/sinks: cursor, lag, who delivers it', async () => {
      await waitUntil('the sinks to report no lag', async () => {
        const { body } = await api(server.url, '/api/sinks')
        return (body.sinks as Array<{ lag: { events: number } }>).every((x) => x.lag.events === 0)
      })
      const { status, body } = await api(server.url, '/api/sinks')
      assert.equal(status, 200)
      const sinks = body.sinks as Array<{
        name: string
        type: string
        cursor: { lastId: number }
        deliveredByThisInstance: boolean
        deadLetters: number
      }>
      assert.deepEqual(
        sinks.map((x) => [x.name, x.type]),
        [
          ['archive', 'redis-stream'],
          ['bus', 'nats-jetstream'],
          ['billing', 'webhook'],
        ],
      )
      const maxId = Math.max(...(await readRedisStream(REDIS_URL!, stream)).map((e) => e.id))
      for (const x of sinks) {
        assert.equal(x.cursor.lastId, maxId)
        assert.equal(x.deliveredByThisInstance, true)
        assert.equal(x.deadLetters, 0)
      }
      assert.equal((await api(server.url, '/api/sinks', 'GET', null)).status, 401)
    })

    it('dead-letters an event the webhook refuses every time, moves on, and re-drives it on request', async () => {
      const refused = groupAfterSend('sinks', 500)
      refuse = keyOf(refused)
      const later = [groupAfterSend('sinks', 501), groupAfterSend('sinks', 502)]
      assert.deepEqual(await postAll(server.url, [refused], 1), [refuse])
      await postAll(server.url, later, 1)
      const laterKeys = later.map(keyOf)
      await waitUntil('the events after the refused one to reach the webhook', () =>
        laterKeys.every((k) => hook.delivered().some((e) => e.key === k)),
      )
      const list = await api(server.url, '/api/sinks/billing/dead-letters')
      assert.equal(list.status, 200)
      assert.deepEqual(
        list.body.deadLetters.map((d: { key: string; attempts: number }) => [d.key, d.attempts]),
        [[refuse, 3]],
      )
      assert.equal(hook.hits.filter((h) => h.envelope.key === refuse).length, 3)
      assert.ok(
        logs.lines.some((l) => l.msg === 'sink dead-lettered an event it refused every time; delivery moves on' && l.key === refuse),
      )
      // Redis and NATS took it as usual.
      await waitUntil('redis to hold the refused event', async () =>
        (await readRedisStream(REDIS_URL!, stream)).some((e) => e.key === refuse),
      )
      refuse = undefined
      const redriven = await api(server.url, '/api/sinks/billing/dead-letters/redrive', 'POST')
      assert.deepEqual(redriven.body, { sink: 'billing', redriven: 1 })
      await waitUntil('the re-driven event to be delivered', () => hook.delivered().some((e) => e.key === keyOf(refused)))
      await waitUntil(
        'the dead-letter list to empty',
        async () => (await api(server.url, '/api/sinks/billing/dead-letters')).body.deadLetters.length === 0,
      )
    })

    it('replays from an event id: that event and everything after it arrive again, in order', async () => {
      const ids = hook
        .delivered()
        .map((e) => e.id)
        .sort((a, b) => a - b)
      const from = ids[Math.floor(ids.length / 2)]!
      const ranks = await deliveryRanks(s.db, s.schema)
      const before = hook.delivered().length
      const r = await api(server.url, `/api/sinks/billing/replay?from=${from}`, 'POST')
      assert.equal(r.status, 200)
      assert.deepEqual(r.body.from, { id: from })
      const again = [...ranks.entries()].filter(([, rank]) => rank >= ranks.get(from)!).length
      await waitUntil('the replayed events to arrive', () => hook.delivered().length >= before + again)
      const replayed = hook.delivered().slice(before)
      const order = replayed.map((e) => ranks.get(e.id)!)
      assert.deepEqual(
        order,
        [...order].sort((a, b) => a - b),
      )
      assert.equal(replayed[0]!.id, from)
      // Bad requests name the problem.
      assert.equal((await api(server.url, '/api/sinks/billing/replay?from=yesterday', 'POST')).body.error.parameter, 'from')
      assert.equal((await api(server.url, '/api/sinks/nope/replay?from=1', 'POST')).status, 404)
      assert.equal((await api(server.url, '/api/sinks/billing/replay?from=1', 'GET')).status, 405)
      assert.equal(
        (await api(server.url, `/api/sinks/billing/replay?from=${new Date(Date.now() + 3_600_000).toISOString()}`, 'POST')).body.error.code,
        'NO_SUCH_EVENT',
      )
    })
  })
}
