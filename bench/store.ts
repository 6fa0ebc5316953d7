/**
 * SQLite commit throughput against batch size: durable writes (each resolves only after the
 * transaction that holds it is committed with synchronous=FULL) of after-send callbacks, issued
 * concurrently, with the writer queue capped at 1, 10, 100 and 1000 records per transaction.
 * Same process, same data, alternating rounds; the ratio to batch size 1 is what to read.
 *
 *   npx tsx bench/store.ts [--records 4000] [--rounds 3]
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { createStore, openSqliteBackend, type CallbackRecord } from '../src/store/index.js'

const { values } = parseArgs({ options: { records: { type: 'string', default: '4000' }, rounds: { type: 'string', default: '3' } } })
const N = Number(values.records)
const ROUNDS = Number(values.rounds)
const SIZES = [1, 10, 100, 1000]
const dir = mkdtempSync(join(tmpdir(), 'timhook-store-bench-'))

let seq = 0
function record(): CallbackRecord {
  const body = {
    CallbackCommand: 'Group.CallbackAfterSendMsg',
    GroupId: `@TGS#bench${seq % 50}`,
    Type: 'Public',
    From_Account: 'u',
    MsgSeq: ++seq,
    Random: seq,
    MsgTime: 1670574414,
    MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: '今晚八点开会 — see you at 8pm' } }],
    EventTime: 1670574414123,
  }
  const rawBody = Buffer.from(JSON.stringify(body))
  return {
    command: body.CallbackCommand,
    sdkAppId: '1400000000',
    clientIp: '10.0.0.1',
    optPlatform: 'RESTAPI',
    receivedAt: Date.now(),
    requestId: `r${seq}`,
    rawBody,
    body,
    valid: true,
    decision: null,
  }
}

async function run(maxBatch: number): Promise<{ perSecond: number; commits: number; meanBatch: number }> {
  const store = createStore(openSqliteBackend(join(dir, `b${maxBatch}-${seq}.db`)), { maxBatch })
  let commits = 0
  store.onCommit(() => void commits++)
  const records = Array.from({ length: N }, record)
  const start = process.hrtime.bigint()
  await Promise.all(records.map((r) => store.write(r)))
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  await store.close()
  return { perSecond: N / seconds, commits, meanBatch: N / commits }
}

const results = new Map<number, Array<{ perSecond: number; commits: number; meanBatch: number }>>(SIZES.map((s) => [s, []]))
await run(100) // warm-up
for (let round = 0; round < ROUNDS; round++) {
  for (const size of round % 2 === 0 ? SIZES : [...SIZES].reverse()) results.get(size)!.push(await run(size))
}
rmSync(dir, { recursive: true, force: true })

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const base = median(results.get(1)!.map((r) => r.perSecond))
console.log(`SQLite (WAL, synchronous=FULL), ${N} concurrent durable writes per run, ${ROUNDS} alternating rounds, median\n`)
console.log('max batch   durable writes/s   commits   mean batch   × batch 1')
for (const size of SIZES) {
  const rs = results.get(size)!
  const ps = median(rs.map((r) => r.perSecond))
  console.log(
    `${String(size).padStart(9)}   ${Math.round(ps).toLocaleString('en').padStart(16)}   ${String(median(rs.map((r) => r.commits))).padStart(7)}   ${median(
      rs.map((r) => r.meanBatch),
    )
      .toFixed(1)
      .padStart(10)}   ${(ps / base).toFixed(1).padStart(9)}`,
  )
}
