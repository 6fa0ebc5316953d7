/**
 * PostgreSQL durable-write throughput of the writer queue with 1, 2 and 4 commits in flight, without
 * HTTP: `--writers` closed loops, each writing an after-send and waiting for its commit before the
 * next (what callbacks waiting for their 200 do), with a random pause of 0–3 ms between writes so
 * that they arrive spread over time, as requests do. Same process, fresh schema per run, alternating
 * rounds, median. Read the ratio to 1 commit in flight.
 *
 *   TIMHOOK_TEST_PG_URL=postgres://… npx tsx bench/pg-commits.ts [--writers 256] [--seconds 5] [--rounds 3]
 */
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
const IN_FLIGHT = [1, 2, 4]

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

async function run(inFlight: number): Promise<{ perSecond: number; meanBatch: number }> {
  const schema = `bench_commits_${process.pid}_${inFlight}_${seq}`
  const store = createStore(await openPostgresBackend(PG_URL!, { schema, commitsInFlight: inFlight }))
  let commits = 0
  let records = 0
  store.onCommit((r) => {
    commits++
    records += r.size
  })
  let stop = false
  let done = 0
  const writer = async () => {
    while (!stop) {
      await store.write(record())
      done++
      // Callbacks arrive spread over time, not all in the same turn of the event loop.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 3))
    }
  }
  const t0 = performance.now()
  const writers = Array.from({ length: Number(values.writers) }, writer)
  await new Promise((resolve) => setTimeout(resolve, Number(values.seconds) * 1000))
  stop = true
  const seconds = (performance.now() - t0) / 1000
  const counted = done
  await Promise.all(writers)
  await store.close()
  const client = new pg.Client({ connectionString: PG_URL })
  await client.connect()
  await client.query(`DROP SCHEMA ${schema} CASCADE`)
  await client.end()
  return { perSecond: counted / seconds, meanBatch: records / commits }
}

const results = new Map<number, Array<{ perSecond: number; meanBatch: number }>>(IN_FLIGHT.map((n) => [n, []]))
for (let round = 0; round < Number(values.rounds); round++) {
  for (const n of round % 2 === 0 ? IN_FLIGHT : [...IN_FLIGHT].reverse()) results.get(n)!.push(await run(n))
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const base = median(results.get(1)!.map((r) => r.perSecond))
console.log(`${values.writers} writers, ${values.seconds} s per run, ${values.rounds} alternating rounds, median\n`)
console.log('commits in flight   durable writes/s   mean batch   × 1 in flight')
for (const n of IN_FLIGHT) {
  const rs = results.get(n)!
  const ps = median(rs.map((r) => r.perSecond))
  console.log(
    `${String(n).padStart(17)}   ${Math.round(ps).toLocaleString('en').padStart(16)}   ${median(rs.map((r) => r.meanBatch))
      .toFixed(1)
      .padStart(10)}   ${(ps / base).toFixed(2).padStart(13)}`,
  )
}
