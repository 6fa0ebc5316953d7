/**
 * What the PostgreSQL outbox's order rule costs each commit. Every event row records the
 * transaction that wrote it (`xid xid8 DEFAULT pg_current_xact_id()`) and an index on `(xid, id)`
 * lets a sink read in commit order without passing a transaction still running (docs/sinks.md
 * "Order with several writers"). That column and index are written by every commit, sinks or not.
 * This compares durable writes through the store with them (as migrated) and without them (the
 * column dropped after the migrations, which drops the index), side by side: `--writers` closed
 * loops each writing an after-send and waiting for its commit (as callbacks waiting for their 200
 * do), a 0–3 ms pause between writes, the default commits in flight; fresh schema per run,
 * alternating rounds; every round printed, then the medians.
 *
 *   TIMHOOK_TEST_PG_URL=postgres://… npx tsx bench/pg-outbox-cost.ts [--writers 256] [--seconds 5] [--rounds 3]
 */
import { availableParallelism, cpus, loadavg, release } from 'node:os'
import { parseArgs } from 'node:util'
import pg from 'pg'
import { createStore, openPostgresBackend, type CallbackRecord } from '../src/store/index.js'

const { values } = parseArgs({
  options: {
    writers: { type: 'string', default: '256' },
    seconds: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
  },
})
const PG_URL = process.env.TIMHOOK_BENCH_PG_URL ?? process.env.TIMHOOK_TEST_PG_URL
if (PG_URL === undefined) throw new Error('set TIMHOOK_TEST_PG_URL (or TIMHOOK_BENCH_PG_URL)')
const VARIANTS = ['with xid + (xid, id) index', 'without'] as const
type Variant = (typeof VARIANTS)[number]

let seq = 0
function record(): CallbackRecord {
  const n = ++seq
  const body = {
    CallbackCommand: 'Group.CallbackAfterSendMsg',
    GroupId: `@TGS#bench${n % 97}`,
    Type: 'Public',
    From_Account: `u${n % 500}`,
    MsgSeq: n,
    Random: n,
    MsgTime: 1670574414,
    MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: '今晚八点开会 — see you at 8pm' } }],
    EventTime: 1670574414123,
  }
  return {
    command: body.CallbackCommand,
    sdkAppId: '1400000000',
    clientIp: '10.0.0.1',
    optPlatform: 'RESTAPI',
    receivedAt: Date.now(),
    requestId: `r${n}`,
    rawBody: Buffer.from(JSON.stringify(body)),
    body,
    valid: true,
    decision: null,
  }
}

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? NaN
const median = (xs: number[]) => quantile(xs, 0.5)

interface Result {
  perSecond: number
  p50: number
  p99: number
  meanBatch: number
}

async function run(variant: Variant, round: number): Promise<Result> {
  const schema = `bench_outbox_${process.pid}_${round}_${variant === 'without' ? 'plain' : 'xid'}`
  const admin = new pg.Client({ connectionString: PG_URL })
  await admin.connect()
  const store = createStore(await openPostgresBackend(PG_URL!, { schema }))
  if (variant === 'without') await admin.query(`ALTER TABLE ${schema}.events DROP COLUMN xid`)
  let commits = 0
  let records = 0
  store.onCommit((r) => {
    commits++
    records += r.size
  })
  let stop = false
  const latencies: number[] = []
  const writer = async () => {
    while (!stop) {
      const t = performance.now()
      await store.write(record())
      latencies.push(performance.now() - t)
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 3))
    }
  }
  const t0 = performance.now()
  const writers = Array.from({ length: Number(values.writers) }, writer)
  await new Promise((resolve) => setTimeout(resolve, Number(values.seconds) * 1000))
  stop = true
  const seconds = (performance.now() - t0) / 1000
  const counted = latencies.length
  await Promise.all(writers)
  await store.close()
  await admin.query(`DROP SCHEMA ${schema} CASCADE`)
  await admin.end()
  return { perSecond: counted / seconds, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), meanBatch: records / commits }
}

const server = new pg.Client({ connectionString: PG_URL })
await server.connect()
const version = (await server.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]?.v
await server.end()
console.log(
  `bench/pg-outbox-cost.ts — ${new Date().toISOString()}, node ${process.version}, PostgreSQL ${version}, Linux ${release()}, ${availableParallelism()} × ${cpus()[0]?.model}`,
)
console.log(`${values.writers} writers, ${values.seconds} s per run, ${values.rounds} alternating rounds\n`)
const results = new Map<Variant, Result[]>(VARIANTS.map((v) => [v, []]))
const row = (label: string, r: Result) =>
  `${label.padEnd(40)} ${Math.round(r.perSecond).toLocaleString('en').padStart(8)} writes/s   commit wait p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms   mean batch ${r.meanBatch.toFixed(1)}`
for (let round = 0; round < Number(values.rounds); round++) {
  for (const v of round % 2 === 0 ? VARIANTS : [...VARIANTS].reverse()) {
    const r = await run(v, round)
    results.get(v)!.push(r)
    console.log(`${row(`round ${round + 1}, ${v}`, r)}   load ${loadavg()[0]!.toFixed(2)}`)
  }
}
console.log('')
const med = (v: Variant): Result => {
  const rs = results.get(v)!
  return {
    perSecond: median(rs.map((r) => r.perSecond)),
    p50: median(rs.map((r) => r.p50)),
    p99: median(rs.map((r) => r.p99)),
    meanBatch: median(rs.map((r) => r.meanBatch)),
  }
}
const a = med('with xid + (xid, id) index')
const b = med('without')
console.log(row('median, with xid + (xid, id) index', a))
console.log(row('median, without', b))
console.log(
  `\nwrites/s with ÷ without: ${(a.perSecond / b.perSecond).toFixed(3)}; commit wait p50 with − without: ${(a.p50 - b.p50).toFixed(2)} ms, p99: ${(a.p99 - b.p99).toFixed(2)} ms`,
)
