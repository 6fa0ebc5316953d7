/**
 * Sinks through crashes, against the real servers:
 * (a) `timhook serve` killed with SIGKILL in the middle of a load, then started again on the same
 *     database: what it had acknowledged reaches every sink, in order (some of it twice);
 * (d) two instances over one PostgreSQL: the one delivering the sinks (the lease holder) is
 *     killed; the other takes the leases over and delivers everything, in order.
 * Each run prints its count: acknowledged, delivered, duplicates, out of order, lost (0).
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import type { SinkEnvelope } from '../../src/sinks/envelope.js'
import { PG_SKIP, PG_URL, dropSchema } from '../store/helpers.js'
import { ADMIN, groupAfterSend, spawnServer, tempDir, type ChildServer } from '../server/helpers.js'
import {
  NATS_SKIP,
  NATS_URL,
  REDIS_SKIP,
  REDIS_URL,
  SECRET,
  deleteNatsStream,
  deleteRedisKey,
  deliveryRanks,
  postAll,
  readNatsStream,
  readRedisStream,
  tally,
  unique,
  waitUntil,
  webhookEndpoint,
} from './helpers.js'

const SKIP = REDIS_SKIP || NATS_SKIP

/** The three sinks of one test, and how to read what each holds. */
async function threeSinks() {
  const stream = unique('timhook-test:')
  const natsStream = unique('K')
  const hook = await webhookEndpoint((e, attempt) => (e.id % 5 === 0 && attempt === 1 ? 503 : 200))
  const env = {
    TIMHOOK_SINKS: JSON.stringify([
      { name: 'archive', type: 'redis-stream', url: REDIS_URL, stream, start: 'beginning' },
      {
        name: 'bus',
        type: 'nats-jetstream',
        url: NATS_URL,
        stream: natsStream,
        subject: `${natsStream.toLowerCase()}.{command}`,
        start: 'beginning',
      },
      { name: 'billing', type: 'webhook', url: hook.url, secret: SECRET, start: 'beginning' },
    ]),
  }
  const read = async (): Promise<Array<[string, SinkEnvelope[]]>> => [
    ['redis', await readRedisStream(REDIS_URL!, stream)],
    ['nats', await readNatsStream(NATS_URL!, natsStream)],
    ['webhook', hook.delivered()],
  ]
  return {
    env,
    read,
    async holdAll(keys: string[]) {
      const want = new Set(keys)
      const holds = (got: SinkEnvelope[]) => new Set(got.map((e) => e.key).filter((k) => want.has(k))).size === want.size
      // Cheapest first: the webhook's list is in memory.
      return (
        holds(hook.delivered()) && holds(await readRedisStream(REDIS_URL!, stream)) && holds(await readNatsStream(NATS_URL!, natsStream))
      )
    },
    async cleanup() {
      await hook.close()
      await deleteRedisKey(REDIS_URL!, stream).catch(() => {})
      await deleteNatsStream(NATS_URL!, natsStream).catch(() => {})
    },
  }
}

/** Posts to the servers in turn until `stop()` says so; resolves to the acknowledged keys. */
async function load(urls: () => string[], first: number, stop: (acked: number) => boolean): Promise<string[]> {
  const acked: string[] = []
  let seq = first
  while (!stop(acked.length)) {
    const list = urls()
    const bodies = Array.from({ length: 8 }, () => groupAfterSend('crash', seq++))
    const url = list[seq % list.length]!
    acked.push(...(await postAll(url, bodies, 8)))
  }
  return acked
}

async function check(name: string, sinks: Awaited<ReturnType<typeof threeSinks>>, acked: string[], db: string, schema?: string) {
  const ranks = await deliveryRanks(db, schema)
  await waitUntil('every acknowledged callback at every sink', () => sinks.holdAll(acked), 60_000).catch(async (err: Error) => {
    for (const [sink, got] of await sinks.read()) console.log(`${name}, ${sink} (timed out): ${JSON.stringify(tally(acked, got, ranks))}`)
    throw err
  })
  for (const [sink, got] of await sinks.read()) {
    const c = tally(acked, got, ranks)
    console.log(`${name}, ${sink}: ${JSON.stringify(c)}`)
    assert.deepEqual({ sink, lost: c.lost, outOfOrder: c.outOfOrder }, { sink, lost: 0, outOfOrder: 0 })
  }
}

const killed = async (s: ChildServer) => {
  s.proc.kill('SIGKILL')
  assert.equal((await s.exited).signal, 'SIGKILL')
}

describe('sinks through kill -9', { skip: SKIP }, () => {
  const running: ChildServer[] = []
  after(() => {
    for (const s of running) s.proc.kill('SIGKILL')
  })

  for (const kind of ['sqlite', 'postgres'] as const) {
    it(
      `(a) serve killed mid-stream and restarted on ${kind}: every acknowledged callback reaches every sink, in order`,
      { skip: kind === 'postgres' && PG_SKIP, timeout: 120_000 },
      async () => {
        const t = tempDir()
        const schema = unique('sinkkill_')
        const db = kind === 'sqlite' ? `${t.dir}/timhook.db` : PG_URL!
        const args = ['--db', db, ...(kind === 'postgres' ? ['--pg-schema', schema] : []), '--admin-token', ADMIN, '--log-level', 'info']
        const sinks = await threeSinks()
        try {
          const first = await spawnServer(args, sinks.env)
          running.push(first)
          // Kill while requests are in flight and the sinks are mid-delivery.
          let kill: Promise<void> | undefined
          const acked = await load(
            () => [first.url],
            1,
            (n) => {
              if (n >= 300 && kill === undefined) kill = killed(first)
              return kill !== undefined
            },
          )
          await kill
          const second = await spawnServer(args, sinks.env)
          running.push(second)
          acked.push(
            ...(await postAll(
              second.url,
              Array.from({ length: 40 }, (_, i) => groupAfterSend('crash', 100_000 + i)),
            )),
          )
          await check(`(a) ${kind}`, sinks, acked, db, kind === 'postgres' ? schema : undefined)
          second.proc.kill('SIGTERM')
          await second.exited
        } finally {
          await sinks.cleanup()
          if (kind === 'postgres') await dropSchema(schema)
          t.cleanup()
        }
      },
    )
  }

  it(
    '(d) two instances over one PostgreSQL, the lease holder killed: the other takes over and delivers everything, in order',
    { skip: PG_SKIP, timeout: 120_000 },
    async () => {
      const schema = unique('sinklease_')
      const args = ['--db', PG_URL!, '--pg-schema', schema, '--admin-token', ADMIN, '--log-level', 'info']
      const sinks = await threeSinks()
      const delivering = (s: ChildServer, sink: string) =>
        s.waitForLog((l) => l.sink === sink && l.msg === 'sink delivering from this instance', 30_000)
      try {
        const a = await spawnServer(args, sinks.env)
        running.push(a)
        for (const sink of ['archive', 'bus', 'billing']) await delivering(a, sink)
        const b = await spawnServer(args, sinks.env)
        running.push(b)
        // Both take callbacks (a load balancer in front); A delivers the sinks until it is killed.
        let killedAt = 0
        let targets = [a.url, b.url]
        const acked = await load(
          () => targets,
          1,
          (n) => {
            if (n >= 300 && killedAt === 0) {
              killedAt = Date.now()
              a.proc.kill('SIGKILL')
              targets = [b.url]
            }
            return killedAt !== 0 && n >= 600
          },
        )
        assert.equal((await a.exited).signal, 'SIGKILL')
        for (const sink of ['archive', 'bus', 'billing']) await delivering(b, sink)
        console.log(`(d) B delivers every sink ${Date.now() - killedAt} ms after A was killed (lease 6 s)`)
        assert.ok(acked.length >= 600)
        await check('(d) two instances', sinks, acked, PG_URL!, schema)
        const status = (await (await fetch(`${b.url}/api/sinks`, { headers: { authorization: `Bearer ${ADMIN}` } })).json()) as {
          sinks: Array<{ deliveredByThisInstance: boolean }>
        }
        assert.ok(status.sinks.every((s) => s.deliveredByThisInstance))
        b.proc.kill('SIGTERM')
        await b.exited
      } finally {
        await sinks.cleanup()
        await dropSchema(schema)
      }
    },
  )
})
