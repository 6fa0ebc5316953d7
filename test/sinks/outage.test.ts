/**
 * (b) A sink server stopped and started again: Redis and NATS (servers of this test's own) go down
 * while callbacks keep coming; every callback is still acknowledged, the sinks retry, raise
 * their alert metric, and once the servers are back every acknowledged callback arrives, in order.
 * The outage lasts TIMHOOK_TEST_SINK_OUTAGE_MS (3 s by default; 30000 for the full 30-second run).
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { configSchema } from '../../src/server/config.js'
import { createLogger } from '../../src/server/logger.js'
import { startServer, type RunningServer } from '../../src/server/start-server.js'
import { ADMIN, APP, captureLogs, groupAfterSend, tempDir } from '../server/helpers.js'
import {
  CTL_SKIP,
  OUTAGE_MS,
  deliveryRanks,
  metric,
  postAll,
  privateSinkServers,
  readNatsStream,
  readRedisStream,
  tally,
  waitUntil,
} from './helpers.js'

describe('a sink server stopped and started again', { skip: CTL_SKIP }, () => {
  let servers: Awaited<ReturnType<typeof privateSinkServers>>
  let server: RunningServer
  const t = tempDir()
  const db = `${t.dir}/timhook.db`
  const logs = captureLogs()
  before(async () => {
    servers = await privateSinkServers()
    const config = configSchema.parse({
      sdkAppId: APP,
      port: 0,
      adminToken: ADMIN,
      logLevel: 'info',
      db,
      sinks: [
        { name: 'archive', type: 'redis-stream', url: servers.redis, stream: 'tim:events', start: 'beginning', timeoutMs: 1000 },
        {
          name: 'bus',
          type: 'nats-jetstream',
          url: servers.nats,
          stream: 'TIM',
          subject: 'tim.{command}',
          start: 'beginning',
          timeoutMs: 1000,
        },
      ],
    })
    server = await startServer(config, {
      logger: createLogger('info', logs.stream),
      sinks: { pollMs: 100, backoff: { baseMs: 50, maxMs: 1000 } },
    })
  })
  after(async () => {
    await server?.close()
    servers?.close()
    t.cleanup()
  })

  it(`delivers every acknowledged callback after a ${OUTAGE_MS} ms outage, in order`, { timeout: OUTAGE_MS + 90_000 }, async () => {
    let seq = 0
    const batch = (n: number) => Array.from({ length: n }, () => groupAfterSend('outage', ++seq))
    const acked: string[] = await postAll(server.url, batch(100))
    const holds = async (n: number) =>
      (await readRedisStream(servers.redis, 'tim:events')).length >= n && (await readNatsStream(servers.nats, 'TIM')).length >= n
    await waitUntil('the first callbacks to reach both sinks', () => holds(100))

    servers.ctl('stop-redis')
    servers.ctl('stop-nats')
    // Callbacks keep coming, and keep being acknowledged, for the whole outage.
    const down = Date.now()
    let duringOutage = 0
    while (Date.now() - down < OUTAGE_MS) {
      const keys = await postAll(server.url, batch(20), 4)
      duringOutage += keys.length
      acked.push(...keys)
    }
    assert.equal(duringOutage, seq - 100, 'every callback sent during the outage was acknowledged')
    await waitUntil(
      'the alert metric of both sinks',
      async () =>
        (await metric(server.url, 'timhook_sink_failing', 'sink="archive"')) === 1 &&
        (await metric(server.url, 'timhook_sink_failing', 'sink="bus"')) === 1,
    )
    assert.ok((await metric(server.url, 'timhook_sink_failures_total', 'sink="archive",reason="unavailable"')) >= 1)

    servers.ctl('start-redis')
    servers.ctl('start-nats')
    acked.push(...(await postAll(server.url, batch(50))))
    await waitUntil('every acknowledged callback to reach both sinks', () => holds(acked.length), 60_000)

    const ranks = await deliveryRanks(db)
    for (const [name, got] of [
      ['redis', await readRedisStream(servers.redis, 'tim:events')],
      ['nats', await readNatsStream(servers.nats, 'TIM')],
    ] as const) {
      const c = tally(acked, got, ranks)
      console.log(`${name} after a ${OUTAGE_MS} ms outage: ${JSON.stringify(c)}`)
      assert.deepEqual([c.acknowledged, c.lost, c.outOfOrder], [seq, 0, 0], name)
    }
    await waitUntil(
      'the alert metric to clear',
      async () =>
        (await metric(server.url, 'timhook_sink_failing', 'sink="archive"')) === 0 &&
        (await metric(server.url, 'timhook_sink_failing', 'sink="bus"')) === 0,
    )
    for (const sink of ['archive', 'bus']) {
      assert.ok(
        logs.lines.some((l) => l.sink === sink && l.msg === 'sink delivery failed; retrying with back-off'),
        `${sink}: failure logged`,
      )
      assert.ok(
        logs.lines.some((l) => l.sink === sink && l.msg === 'sink deliveries work again'),
        `${sink}: recovery logged`,
      )
    }
  })
})
