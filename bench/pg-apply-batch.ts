/**
 * PostgreSQL CPU µs per batch of `timhook_apply_batch`, the function as it is now against an older
 * version of it (`--old N`: the migration, 1-based, that created it; default 3, the version that
 * looked up each table's id sequence once per row). Both are installed in one fresh schema (the
 * old one under another name), and called in alternating rounds on one connection with fresh
 * batches of `--rows` after-sends (an event and a message each); the CPU is the server backend's
 * own (utime + stime from /proc/<backend pid>/stat, so the server must run on this machine), per
 * call. Median of the rounds, and the difference. Then the per-row look-up alone, as a steadier
 * number: `nextval` of the sequence looked up per row against looked up once, over 200,000 rows.
 *
 *   TIMHOOK_TEST_PG_URL=postgres://… npx tsx bench/pg-apply-batch.ts [--rows 32] [--batches 400] [--rounds 7] [--old 3]
 *
 * ~20 s with the defaults.
 */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import pg from 'pg'
import { openPostgresBackend } from '../src/store/postgres-backend.js'
import { batchParams } from '../src/store/postgres-batch.js'
import { POSTGRES_MIGRATIONS } from '../src/store/postgres-migrations.js'
import { planWrites, type CallbackRecord } from '../src/store/records.js'

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '32' },
    batches: { type: 'string', default: '400' },
    rounds: { type: 'string', default: '7' },
    old: { type: 'string', default: '3' },
  },
})
const PG_URL = process.env.TIMHOOK_BENCH_PG_URL ?? process.env.TIMHOOK_TEST_PG_URL
if (PG_URL === undefined) throw new Error('set TIMHOOK_TEST_PG_URL (or TIMHOOK_BENCH_PG_URL)')
const ROWS = Number(values.rows)
const BATCHES = Number(values.batches)
const ROUNDS = Number(values.rounds)
const OLD = Number(values.old)
const oldSql = POSTGRES_MIGRATIONS[OLD - 1]
if (oldSql === undefined || !oldSql.includes('FUNCTION timhook_apply_batch('))
  throw new Error(`migration ${OLD} does not create timhook_apply_batch`)

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

const TICK_US = 1e6 / 100 // USER_HZ: Linux reports 100 ticks a second
function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return Number(fields[11]) + Number(fields[12]) // utime, stime
}

const schema = `bench_apply_${process.pid}`
const backend = await openPostgresBackend(PG_URL, { schema })
await backend.close()
const client = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${schema}` })
await client.connect()
try {
  await client.query(oldSql.replace('FUNCTION timhook_apply_batch(', 'FUNCTION timhook_apply_batch_old('))
  const pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid
  const run = async (fn: string): Promise<number> => {
    const text = `SELECT ${fn}($1::jsonb, $2::bytea, $3::jsonb, $4::jsonb)`
    const batches = Array.from({ length: BATCHES }, () => batchParams(Array.from({ length: ROWS }, () => planWrites(record())).flat()))
    const before = cpuTicks(pid)
    for (const values of batches) await client.query({ name: fn, text, values })
    return ((cpuTicks(pid) - before) * TICK_US) / BATCHES
  }
  await run('timhook_apply_batch')
  await run('timhook_apply_batch_old')
  const now: number[] = []
  const old: number[] = []
  for (let i = 0; i < ROUNDS; i++) {
    old.push(await run('timhook_apply_batch_old'))
    now.push(await run('timhook_apply_batch'))
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!
  const f = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(', ')
  console.log(`migration ${OLD}'s function: ${f(old)} µs PostgreSQL CPU per batch of ${ROWS} (median ${median(old).toFixed(0)})`)
  console.log(`current function: ${f(now)} µs (median ${median(now).toFixed(0)})`)
  console.log(
    `saved: ${(median(old) - median(now)).toFixed(0)} µs per batch, ${((median(old) - median(now)) / ROWS).toFixed(1)} µs per record`,
  )
  const N = 200_000
  const perRow = `SELECT count(nextval(pg_get_serial_sequence('events', 'id'))) FROM generate_series(1, ${N})`
  const once = `DO $$ DECLARE v regclass := pg_get_serial_sequence('events', 'id'); n bigint;
    BEGIN SELECT count(nextval(v)) INTO n FROM generate_series(1, ${N}); END $$`
  const each: number[] = []
  const single: number[] = []
  for (let i = 0; i < ROUNDS; i++) {
    for (const [sql, into] of [
      [perRow, each],
      [once, single],
    ] as const) {
      const before = cpuTicks(pid)
      await client.query(sql)
      into.push(((cpuTicks(pid) - before) * TICK_US) / N)
    }
  }
  const g = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(', ')
  console.log(`nextval, sequence looked up per row: ${g(each)} µs per row (median ${median(each).toFixed(2)})`)
  console.log(`nextval, sequence looked up once: ${g(single)} µs per row (median ${median(single).toFixed(2)})`)
  console.log(
    `an after-send is 2 rows (event, message): ${(2 * (median(each) - median(single))).toFixed(1)} µs per record, ` +
      `${(2 * ROWS * (median(each) - median(single))).toFixed(0)} µs per batch of ${ROWS}`,
  )
} finally {
  await client.query(`DROP SCHEMA ${schema} CASCADE`)
  await client.end()
}
