/**
 * The SQLite write path in one thread, without HTTP: planning the bench's mix (a before-send, a
 * group recall, a C2C withdraw in turn) into rows, and committing them in batches with
 * `synchronous = FULL`, as the writer thread does. Prints CPU µs per record of each part
 * (process.cpuUsage: user + system, so the WAL writes and fsyncs count), and of posting the
 * batches to a thread: cloned row by row, or packed as the writer posts them (one flat array of
 * values and one transferred buffer for the raw bodies). The connection is set up as the writer
 * thread's (`setUpWriter`); `--autocheckpoint`, `--page-size` (a new file) and `--pragma` try others.
 *
 *   npx tsx bench/write-path.ts [--records 30000] [--batch 32] [--rounds 3] [--autocheckpoint 1000]
 *     [--page-size 2048] [--pragma cache_size=-65536 …] [--exec "CREATE INDEX …"] [--journal]
 *   npx tsx bench/write-path.ts --backend pg   # commit to PostgreSQL: CPU per record in timhook and in the server
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { Worker } from 'node:worker_threads'
import pg from 'pg'
import { planWrites, type CallbackRecord, type WriteRow } from '../src/store/records.js'
import { openPostgresBackend } from '../src/store/postgres-backend.js'
import { openSqliteBackend } from '../src/store/sqlite-backend.js'
import { prepareCommit, setUpWriter } from '../src/store/sqlite-commit.js'
import { openDatabase } from '../src/store/sqlite-driver.js'
import { packRows } from '../src/store/sqlite-packed-rows.js'

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '30000' },
    batch: { type: 'string', default: '32' },
    rounds: { type: 'string', default: '3' },
    // Variants: the file's page size (a new file only), the WAL's automatic checkpoint (pages; the writer's own by default), any other PRAGMA.
    'page-size': { type: 'string' },
    autocheckpoint: { type: 'string' },
    pragma: { type: 'string', multiple: true },
    // SQL run on the new file after its schema is created (e.g. `DROP INDEX events_received`): to price a schema change.
    exec: { type: 'string', multiple: true },
    // Also commit the same batches to an append-only log (a table of the raw events and their keys,
    // no unique key, no index): what the durable write before the 200 would cost if the keyed tables
    // were built later by a background step ("journal first", not what the writer does).
    journal: { type: 'boolean', default: false },
    // `pg`: the batches committed to PostgreSQL instead (TIMHOOK_BENCH_PG_URL or TIMHOOK_TEST_PG_URL, a fresh schema per round).
    backend: { type: 'string', default: 'sqlite' },
  },
})
const N = Number(values.records)
const BATCH = Number(values.batch)
const dir = mkdtempSync(join(tmpdir(), 'timhook-write-path-'))

let seq = 0
function record(): CallbackRecord {
  const n = ++seq
  const g = n % 97
  let body: Record<string, unknown>
  let command: string
  if (n % 3 === 0) {
    command = 'Group.CallbackBeforeSendMsg'
    body = {
      CallbackCommand: command,
      GroupId: `@TGS#bench${g}`,
      Type: 'Public',
      From_Account: `user${n % 97}`,
      Operator_Account: `user${n % 97}`,
      Random: n,
      OnlineOnlyFlag: 0,
      MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: `今晚八点开会，别迟到 — see you at 8pm! #${n}` } }],
      CloudCustomData: '',
      EventTime: '1670574414123',
    }
  } else if (n % 3 === 1) {
    command = 'Group.CallbackAfterRecallMsg'
    body = {
      CallbackCommand: command,
      Operator_Account: 'admin',
      Type: 'Public',
      GroupId: `@TGS#bench${g}`,
      MsgSeqList: [{ MsgSeq: n }],
      EventTime: '1670574414123',
    }
  } else {
    command = 'C2C.CallbackAfterMsgWithDraw'
    body = { CallbackCommand: command, From_Account: `user${g}`, To_Account: `peer${g}`, MsgKey: `${n}_${n}_1557481126`, UnreadMsgNum: 7 }
  }
  return {
    command,
    sdkAppId: '1400000000',
    clientIp: '10.0.0.1',
    optPlatform: 'RESTAPI',
    receivedAt: Date.now(),
    requestId: `r${n}`,
    rawBody: Buffer.from(JSON.stringify(body)),
    body,
    valid: true,
    decision:
      command === 'Group.CallbackBeforeSendMsg'
        ? { verdict: 'allow', rewritten: false, code: null, fallback: false, rule: null, action: null, reason: null, dryRun: false }
        : null,
  }
}

const cpu = () => {
  const u = process.cpuUsage()
  return u.user + u.system
}

// A thread that receives batches as the writer thread does (a packed batch unpacked into rows by
// the writer's own code, loaded through tsx as src/store/spawn-thread.ts does).
const packedRowsUrl = new URL('../src/store/sqlite-packed-rows.ts', import.meta.url).href
const sink = new Worker(
  `const { parentPort } = require('node:worker_threads')
  import('tsx/esm/api').then((m) => m.tsImport(${JSON.stringify(packedRowsUrl)}, ${JSON.stringify(import.meta.url)})).then(({ unpackRows }) => {
    parentPort.on('message', (m) => {
      if (m.bytes !== undefined) unpackRows(m.values, m.bytes)
      if (m.last) parentPort.postMessage('done')
    })
    parentPort.postMessage('ready')
  })`,
  { eval: true },
)
await new Promise((resolve) => sink.once('message', resolve))

/** CPU µs (both threads: this process) to post every batch to a thread, cloned row by row or packed (src/store/sqlite-packed-rows.ts). */
async function post(batches: WriteRow[][], packed: boolean): Promise<number> {
  const t = cpu()
  batches.forEach((rows, i) => {
    const last = i === batches.length - 1
    if (!packed) return sink.postMessage({ rows, last })
    const p = packRows(rows)
    sink.postMessage({ values: p.values, bytes: p.bytes, last }, [p.bytes])
  })
  await new Promise((resolve) => sink.once('message', resolve))
  return cpu() - t
}

/** CPU µs of the PostgreSQL server processes serving the schema's connections (their /proc, so a server on this machine). */
async function pgServerMicros(admin: pg.Client, app: string): Promise<number> {
  const { rows } = await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [app])
  let us = 0
  for (const { pid } of rows) {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    us += ((Number(f[11]) + Number(f[12])) * 1e6) / 100
  }
  return us
}

/** Commits every batch to PostgreSQL one after another (as one commit in flight does): CPU µs per record here and in the server. */
async function pgRound(r: number): Promise<void> {
  const url = process.env.TIMHOOK_BENCH_PG_URL ?? process.env.TIMHOOK_TEST_PG_URL
  if (url === undefined) throw new Error('set TIMHOOK_BENCH_PG_URL (or TIMHOOK_TEST_PG_URL) for --backend pg')
  const schema = `write_path_${process.pid}_${r}`
  const app = `timhook-${schema}`
  const backend = await openPostgresBackend(`${url}${url.includes('?') ? '&' : '?'}application_name=${app}`, { schema, poolSize: 1 })
  const admin = new pg.Client({ connectionString: url })
  await admin.connect()
  const records = Array.from({ length: N }, record)
  const batches = []
  for (let i = 0; i < N; i += BATCH) batches.push(records.slice(i, i + BATCH).flatMap(planWrites))
  await backend.commit(batches[0]!) // the connection, its prepared plans
  const server = await pgServerMicros(admin, app)
  const t = cpu()
  for (const b of batches.slice(1)) await backend.commit(b)
  const here = cpu() - t
  const there = (await pgServerMicros(admin, app)) - server
  await backend.close()
  await admin.query(`DROP SCHEMA ${schema} CASCADE`)
  await admin.end()
  const n = N - BATCH
  console.log(
    `round ${r + 1}: PostgreSQL commit ${(here / n).toFixed(2)} µs per record in timhook, ${(there / n).toFixed(2)} µs in the server (batch ${BATCH})`,
  )
}

async function round(r: number): Promise<void> {
  if (values.backend === 'pg') return pgRound(r)
  const file = join(dir, `w${r}.db`)
  if (values['page-size'] !== undefined)
    openDatabase(file, {}, (db) => db.exec(`PRAGMA page_size = ${Number(values['page-size'])}; PRAGMA journal_mode = WAL`)).close()
  await openSqliteBackend(file).close() // creates the schema
  const db = openDatabase(file, { busyTimeoutMs: 5000 }, (db) => {
    setUpWriter(db) // as the writer thread's connection
    if (values.autocheckpoint !== undefined) db.exec(`PRAGMA wal_autocheckpoint = ${Number(values.autocheckpoint)}`)
    for (const p of values.pragma ?? []) db.exec(`PRAGMA ${p}`)
    for (const statement of values.exec ?? []) db.exec(statement)
  })
  const commit = prepareCommit(db)
  const records = Array.from({ length: N }, record)
  let t = cpu()
  const batches = []
  for (let i = 0; i < N; i += BATCH) batches.push(records.slice(i, i + BATCH).flatMap(planWrites))
  const planUs = cpu() - t
  const cloneUs = await post(batches, false)
  const packedUs = await post(batches, true)
  t = cpu()
  // The slowest commits (wall time): the ones that ran the WAL's checkpoint.
  const walls: number[] = []
  for (const b of batches) {
    const w = performance.now()
    commit(b)
    walls.push(performance.now() - w)
  }
  const commitUs = cpu() - t
  walls.sort((a, b) => b - a)
  let journalNote = ''
  if (values.journal) {
    db.exec(
      `CREATE TABLE journal (id INTEGER PRIMARY KEY, idem_key TEXT NOT NULL, command TEXT NOT NULL, received_at INTEGER NOT NULL, raw BLOB NOT NULL)`,
    )
    const append = db.prepare(`INSERT INTO journal (idem_key, command, received_at, raw) VALUES (?, ?, ?, ?)`)
    t = cpu()
    for (const b of batches) {
      db.exec('BEGIN IMMEDIATE')
      for (const r of b) if (r.kind === 'event') append.run(r.idempotencyKey, r.command, r.receivedAt, r.raw)
      db.exec('COMMIT')
    }
    journalNote = `; append-only journal ${((cpu() - t) / N).toFixed(2)} µs per record`
  }
  db.close()
  const per = (us: number) => (us / N).toFixed(2)
  console.log(
    `round ${r + 1}: plan ${per(planUs)} µs, post to a thread: cloned ${per(cloneUs)} µs, packed ${per(packedUs)} µs; commit ${per(commitUs)} µs per record (batch ${BATCH}); slowest commits ${walls
      .slice(0, 3)
      .map((ms) => ms.toFixed(1))
      .join(', ')} ms${journalNote}`,
  )
}

for (let r = 0; r < Number(values.rounds); r++) await round(r)
await sink.terminate()
rmSync(dir, { recursive: true, force: true })
