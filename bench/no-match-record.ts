/**
 * What a before-send's decision record costs the SQLite write path, per row: without a decision
 * (`serve` without a policy), with the no-match decision as stored now (its verdict alone:
 * src/store/records.ts `NO_MATCH_DECISION_JSON`), and with that decision's JSON in the row (as it
 * was stored before). Before-sends only, from 100,003 senders, as the `empty-policy` pair sends.
 *
 * Two parts, CPU µs per row (process.cpuUsage: user + system, so the WAL writes and fsyncs count):
 * - hand-over: `packRows` and the structured clone `postMessage` makes of the batch (v8.serialize
 *   and v8.deserialize, both sides in this thread);
 * - commit: the writer's transaction (`prepareCommit`, `synchronous = FULL`), every variant into ONE
 *   file, batch after batch in turn (the order reversed every other batch), so that the file's
 *   growth and the machine's noise fall on all of them alike.
 *
 *   npx tsx bench/no-match-record.ts [--rounds 9] [--records 12800] [--batch 64]
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { deserialize, serialize } from 'node:v8'
import { createPolicy } from '../src/policy/index.js'
import { recordOf } from '../src/server/attach-recorder.js'
import { NO_MATCH_DECISION_JSON, planWrites, type CallbackRecord, type DecisionRecord, type WriteRow } from '../src/store/records.js'
import { prepareCommit, setUpWriter } from '../src/store/sqlite-commit.js'
import { openDatabase } from '../src/store/sqlite-driver.js'
import { SQLITE_MIGRATIONS } from '../src/store/sqlite-migrations.js'
import { packRows } from '../src/store/sqlite-packed-rows.js'

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '9' },
    records: { type: 'string', default: '12800' },
    batch: { type: 'string', default: '64' },
  },
})
const ROUNDS = Number(values.rounds)
const N = Number(values.records)
const BATCH = Number(values.batch)

// The record the server makes of an empty policy's decision (shared, frozen).
const decided = createPolicy({ rules: [] }).decide({
  CallbackCommand: 'Group.CallbackBeforeSendMsg',
  GroupId: '@g',
  From_Account: 'a',
  MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'hi' } }],
})
const NO_MATCH: DecisionRecord = recordOf(decided.verdict, false, { policy: decided })

let seq = 0
function record(decision: DecisionRecord | null): CallbackRecord {
  const n = ++seq
  const u = n % 100_003
  const raw = `{"CallbackCommand":"Group.CallbackBeforeSendMsg","GroupId":"@TGS#bench${n % 97}","Type":"Public","From_Account":"user${u}","Operator_Account":"user${u}","Random":${n},"OnlineOnlyFlag":0,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"今晚八点开会，别迟到 — see you at 8pm! #${n}"}}],"CloudCustomData":"","EventTime":"1670574414123"}`
  return {
    command: 'Group.CallbackBeforeSendMsg',
    sdkAppId: '1400000000',
    clientIp: '10.0.0.1',
    optPlatform: 'RESTAPI',
    receivedAt: Date.now(),
    requestId: `6f1c2a4e-93b1-4c55-8d0e-${String(n).padStart(12, '0')}`,
    rawBody: Buffer.from(raw),
    body: JSON.parse(raw) as Record<string, unknown>,
    valid: true,
    decision,
  }
}

const VARIANTS: Record<string, () => WriteRow[]> = {
  'no policy': () => planWrites(record(null)),
  'no-match, verdict alone (now)': () => planWrites(record(NO_MATCH)),
  'no-match, its JSON stored (before)': () =>
    planWrites(record(NO_MATCH)).map((r) => (r.kind === 'event' ? { ...r, decision: NO_MATCH_DECISION_JSON } : r)),
}
const names = Object.keys(VARIANTS)
const cpu = () => {
  const u = process.cpuUsage()
  return u.user + u.system
}

const dir = mkdtempSync(join(tmpdir(), 'timhook-no-match-'))
const db = openDatabase(join(dir, 'bench.db'))
setUpWriter(db)
for (const m of SQLITE_MIGRATIONS) db.exec(m)
const commit = prepareCommit(db)

const results = new Map(names.map((n) => [n, { handOver: [] as number[], commit: [] as number[] }]))
for (let round = 0; round < ROUNDS; round++) {
  const batches = new Map<string, WriteRow[][]>()
  for (const name of names) {
    const list: WriteRow[][] = []
    for (let i = 0; i < N / BATCH; i++) list.push(Array.from({ length: BATCH }, VARIANTS[name]!).flat())
    batches.set(name, list)
  }
  const handOver = new Map(names.map((n) => [n, 0]))
  const committed = new Map(names.map((n) => [n, 0]))
  for (let i = 0; i < N / BATCH; i++) {
    for (const name of i % 2 === 0 ? names : [...names].reverse()) {
      const rows = batches.get(name)![i]!
      let t = cpu()
      const packed = packRows(rows)
      deserialize(serialize(packed.values))
      handOver.set(name, handOver.get(name)! + cpu() - t)
      t = cpu()
      commit(rows)
      committed.set(name, committed.get(name)! + cpu() - t)
    }
  }
  for (const name of names) {
    results.get(name)!.handOver.push(handOver.get(name)! / N)
    results.get(name)!.commit.push(committed.get(name)! / N)
  }
}
db.close()
rmSync(dir, { recursive: true, force: true })

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const base = results.get(names[0]!)!
console.log(
  `CPU µs per before-send row, ${ROUNDS} rounds of ${N} rows in batches of ${BATCH}; medians, and the median of each round's difference from "${names[0]}"`,
)
for (const [name, r] of results) {
  const diff = (xs: number[], ys: number[]) => median(xs.map((x, i) => x - ys[i]!))
  console.log(
    `${name.padEnd(36)} hand-over ${median(r.handOver).toFixed(2)} (${diff(r.handOver, base.handOver) >= 0 ? '+' : ''}${diff(r.handOver, base.handOver).toFixed(2)})` +
      `  commit ${median(r.commit).toFixed(2)} (${diff(r.commit, base.commit) >= 0 ? '+' : ''}${diff(r.commit, base.commit).toFixed(2)})` +
      `  rounds: ${r.commit.map((x) => x.toFixed(1)).join(' ')}`,
  )
}
