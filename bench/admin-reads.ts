/**
 * Do admin reads delay callbacks? `timhook serve` on a SQLite file holding `--messages` group
 * messages (300,000) and `--large` events of ~60 KB each; before-send callbacks at `--rate`/s
 * (open loop), their latency measured by the client, first with nothing else running ("idle"),
 * then while ten concurrent loops read the heaviest admin pages ("admin"): `/api/stats`,
 * `/api/events?limit=500` (the large events), `/api/messages?limit=500`, and filtered message
 * lists. Phases alternate (`--rounds`) so that noise from other work on the machine hits both.
 * The admin loops run in a worker thread, so reading their pages does not delay the probe; a loop
 * refused with 503 waits for its Retry-After, as a client should.
 *
 * Reports, every round: before-send p50 / p99 / max per phase; from /proc, the CPU time of `serve`'s
 * event loop (its main thread) and how long it waited for a core (run-queue delay), per second and
 * per admin page answered, and the CPU of every other thread of serve and of its background processes
 * (the readers' child process, V8's helpers included; CPU per process too); then what the admin reads got
 * (status, code, time). The admin loops stand in for an operator's client on another machine: they
 * run at the lowest priority here (`--client-priority normal` to run them like any process).
 *
 *   npm run build && npx tsx bench/admin-reads.ts [--messages 300000] [--large 1000] [--rate 100] [--duration 15] [--rounds 2]
 *     [--admin-readers n (serve's readers; default: serve's own)] [--background process|thread (where serve runs them; default: serve's own)]
 *     [--client-priority idle|normal] [--serve-cpu 0 (taskset for serve; '' for none)] [--db file]
 *
 * On a 2-core machine run it as `taskset -c 1 npx tsx bench/admin-reads.ts …`: serve alone on CPU 0.
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { availableParallelism, cpus, loadavg, release, tmpdir } from 'node:os'
import { DatabaseSync } from 'node:sqlite'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { Worker } from 'node:worker_threads'
import { Pool } from 'undici'
import { createStore, openSqliteBackend, type CallbackRecord } from '../src/store/index.js'
import { treeUse, used, type TreeUse } from './proc-threads.js'

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '300000' },
    large: { type: 'string', default: '1000' },
    rate: { type: 'string', default: '100' },
    duration: { type: 'string', default: '15' },
    rounds: { type: 'string', default: '2' },
    readers: { type: 'string', default: '10' },
    'admin-readers': { type: 'string' },
    background: { type: 'string' },
    'serve-cpu': { type: 'string', default: '0' },
    'client-priority': { type: 'string', default: 'idle' },
    db: { type: 'string' },
  },
})
if (!existsSync('dist/cli/main.js')) throw new Error('run `npm run build` first')
const MESSAGES = Number(values.messages)
const LARGE = Number(values.large)
const RATE = Number(values.rate)
const DURATION = Number(values.duration)
const ROUNDS = Number(values.rounds)
const READERS = Number(values.readers)
const CLIENT_IDLE = values['client-priority'] !== 'normal'
const APP = '1400000000'
const ADMIN = 'bench-admin-token-0123456789'
const GROUPS = 300
const work = values.db === undefined ? mkdtempSync(join(tmpdir(), 'timhook-admin-bench-')) : undefined
const file = values.db ?? join(work!, 'admin.db')

// ── the database ─────────────────────────────────────────────────────────────────────────────
function record(body: Record<string, unknown>, receivedAt: number): CallbackRecord {
  const rawBody = Buffer.from(JSON.stringify(body))
  return {
    command: String(body.CallbackCommand),
    sdkAppId: APP,
    clientIp: '10.0.0.1',
    optPlatform: 'RESTAPI',
    receivedAt,
    requestId: `r${receivedAt}`,
    rawBody,
    body,
    valid: true,
    decision: null,
  }
}

if (!existsSync(file) || values.db === undefined) {
  const started = performance.now()
  const store = createStore(openSqliteBackend(file), { maxBatch: 2000, maxPendingRecords: 1_000_000, maxPendingBytes: 1 << 30 })
  const t0 = Date.now() - MESSAGES * 10
  for (let i = 1; i <= MESSAGES; i++) {
    const group = `@TGS#bench${i % GROUPS}`
    store.enqueue(
      record(
        {
          CallbackCommand: 'Group.CallbackAfterSendMsg',
          GroupId: group,
          Type: 'Public',
          From_Account: `u${i % 1000}`,
          Operator_Account: `u${i % 1000}`,
          Random: i,
          MsgSeq: i,
          MsgTime: 1670574414,
          OnlineOnlyFlag: 0,
          MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: `message ${i} — 今晚八点开会` } }],
          EventTime: t0 + i * 10,
        },
        t0 + i * 10,
      ),
    )
    if (i % 5000 === 0) await store.flush()
    if (i % 50 === 0)
      store.enqueue(
        record(
          {
            CallbackCommand: 'Group.CallbackAfterRecallMsg',
            GroupId: group,
            Type: 'Public',
            Operator_Account: 'admin',
            MsgSeqList: [{ MsgSeq: i }],
            EventTime: t0 + i * 10 + 5,
          },
          t0 + i * 10 + 5,
        ),
      )
  }
  const filler = 'x'.repeat(60_000)
  for (let i = 1; i <= LARGE; i++) {
    store.enqueue(
      record(
        {
          CallbackCommand: 'Group.CallbackAfterGroupInfoChanged',
          GroupId: `@TGS#large${i}`,
          Operator_Account: 'admin',
          Notification: filler,
          EventTime: Date.now() + i,
        },
        Date.now() + i,
      ),
    )
    if (i % 100 === 0) await store.flush()
  }
  await store.flush()
  await store.close()
  console.log(
    `filled ${file}: ${MESSAGES} messages (every 50th recalled), ${LARGE} events of ~60 KB, in ${((performance.now() - started) / 1000).toFixed(0)} s`,
  )
}

const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')
const sqliteVersion = (new DatabaseSync(':memory:').prepare('SELECT sqlite_version() AS v').get() as { v: string }).v
console.log(
  `bench/admin-reads.ts — ${new Date().toISOString()}, node ${process.version}, SQLite ${sqliteVersion}, Linux ${release()}, ${availableParallelism()} × ${cpus()[0]?.model}, load average ${load()}`,
)

// ── the server ───────────────────────────────────────────────────────────────────────────────
// serve on one core of its own (`--serve-cpu`, taskset; '' for none): its background processes
// inherit it, so what they take from the event loop shows; run the bench itself on another core.
const pin = values['serve-cpu'] === '' ? [] : ['taskset', '-c', values['serve-cpu']]
const proc = spawn(
  pin[0] ?? process.execPath,
  [
    ...pin.slice(1),
    ...(pin.length > 0 ? [process.execPath] : []),
    'dist/cli/main.js',
    'serve',
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--sdk-app-id',
    APP,
    '--db',
    file,
    '--admin-token',
    ADMIN,
    '--log-level',
    'info',
  ],
  {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: {
      ...process.env,
      ...(values['admin-readers'] === undefined ? {} : { TIMHOOK_ADMIN_READERS: values['admin-readers'] }),
      ...(values.background === undefined ? {} : { TIMHOOK_BACKGROUND: values.background }),
    },
  },
)
const url = await new Promise<string>((resolve, reject) => {
  let buf = ''
  proc.once('exit', (code) => reject(new Error(`serve exited (${code})`)))
  proc.stdout!.on('data', (c: Buffer) => {
    buf += c.toString()
    const m = /"url":"(http:[^"]+)"/.exec(buf)
    if (m) resolve(m[1]!)
    if (buf.length > 100_000) buf = buf.slice(-10_000)
  })
})

// ── serve's threads and its background processes, from /proc: CPU time and run-queue delay ──
/** What serve's threads did between two samples, as text: ms of CPU (and of waiting for a core) per second, and per admin page. */
const loopMsPerS = (a: TreeUse, b: TreeUse, seconds: number) => (b.loop.cpu - a.loop.cpu) / 1e6 / seconds
/** `idleMsPerS`: the event loop's CPU in the idle phase before, so that what the admin pages add shows per page. */
function threadReport(a: TreeUse, b: TreeUse, seconds: number, pages: number, idleMsPerS = 0): string {
  const u = used(a, b)
  const parts = [
    `event loop CPU ${(u.loop.cpu / seconds).toFixed(1)} ms/s, waited for a core ${(u.loop.wait / seconds).toFixed(2)} ms/s` +
      (pages > 0 ? ` (+${((u.loop.cpu - idleMsPerS * seconds) / pages).toFixed(2)} ms CPU per admin page over idle)` : ''),
  ]
  for (const [name, t] of [...u.byName].sort()) {
    if (t.cpu / seconds < 1) continue
    parts.push(`${name}${t.count > 1 ? ` ×${t.count}` : ''} ${(t.cpu / seconds).toFixed(0)} ms/s`)
  }
  const processes = [...u.byProcess].map(([role, cpu]) => `${role} ${(cpu / seconds).toFixed(0)} ms/s`).join(', ')
  return `${parts.join('; ')}\n               CPU per process: ${processes}`
}

// ── the probe: before-sends, open loop ───────────────────────────────────────────────────────
const pool = new Pool(url, { connections: 8, pipelining: 1 })
const path = `/?SdkAppid=${APP}&CallbackCommand=Group.CallbackBeforeSendMsg&contenttype=json&ClientIP=10.0.0.1&OptPlatform=RESTAPI`
let seq = 0
async function probe(seconds: number): Promise<{ latencies: number[]; failed: number }> {
  const latencies: number[] = []
  let failed = 0
  const pending: Array<Promise<void>> = []
  const end = performance.now() + seconds * 1000
  const interval = 1000 / RATE
  let next = performance.now()
  while (performance.now() < end) {
    const n = ++seq
    const body = JSON.stringify({
      CallbackCommand: 'Group.CallbackBeforeSendMsg',
      GroupId: `@TGS#bench${n % GROUPS}`,
      Type: 'Public',
      From_Account: `p${n % 100}`,
      Operator_Account: `p${n % 100}`,
      Random: 900_000_000 + n,
      OnlineOnlyFlag: 0,
      MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: `probe ${n}` } }],
      EventTime: Date.now(),
    })
    const sent = performance.now()
    pending.push(
      pool.request({ method: 'POST', path, body, headers: { 'content-type': 'application/json' } }).then(
        async (res) => {
          await res.body.text()
          if (res.statusCode === 200) latencies.push(performance.now() - sent)
          else failed++
        },
        () => void failed++,
      ),
    )
    next += interval
    const wait = next - performance.now()
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
  }
  await Promise.all(pending)
  return { latencies, failed }
}

// ── the admin readers: a worker thread, READERS loops ────────────────────────────────────────
const ADMIN_PATHS = [
  '/api/stats',
  '/api/events?limit=500&command=Group.CallbackAfterGroupInfoChanged',
  '/api/events?limit=500',
  '/api/messages?limit=500',
  `/api/messages?limit=500&groupId=${encodeURIComponent('@TGS#bench7')}`,
  '/api/messages?limit=500&recalled=true',
  `/api/messages?limit=500&from=u7&since=0&until=${Date.now()}`,
]
const readerCode = `
const { parentPort, workerData } = require('node:worker_threads')
const { url, admin, paths, loops, idle } = workerData
if (idle) {
  // An operator's client runs on another machine: here it takes only CPU time nothing else wants.
  try {
    const tid = /^Pid:\\s+(\\d+)/m.exec(require('node:fs').readFileSync('/proc/thread-self/status', 'utf8'))[1]
    require('node:child_process').execFileSync('chrt', ['--idle', '--pid', '0', tid], { stdio: 'ignore' })
  } catch {}
}
let stop = false
const results = []
parentPort.on('message', () => { stop = true })
async function loop(i) {
  let k = i
  while (!stop) {
    const path = paths[k++ % paths.length]
    const t = performance.now()
    try {
      const res = await fetch(url + path, { headers: { authorization: 'Bearer ' + admin } })
      const text = await res.text()
      let code = ''
      if (res.status !== 200) { try { code = JSON.parse(text).error.code } catch {} }
      results.push({ path: path.split('?')[0], status: res.status, code, ms: performance.now() - t, bytes: text.length })
      // As an operator's client would: a refusal says when to come back.
      const after = Number(res.headers.get('retry-after'))
      if (res.status === 503 && after > 0) await new Promise((resolve) => setTimeout(resolve, after * 1000))
    } catch (err) {
      results.push({ path: path.split('?')[0], status: 0, code: String(err.message), ms: performance.now() - t, bytes: 0 })
    }
  }
}
Promise.all(Array.from({ length: loops }, (_, i) => loop(i))).then(() => parentPort.postMessage(results))
`
async function withAdminReads<T>(
  fn: () => Promise<T>,
): Promise<{ value: T; reads: Array<{ path: string; status: number; code: string; ms: number; bytes: number }> }> {
  const worker = new Worker(readerCode, {
    eval: true,
    workerData: { url, admin: ADMIN, paths: ADMIN_PATHS, loops: READERS, idle: CLIENT_IDLE },
  })
  const done = new Promise<Array<{ path: string; status: number; code: string; ms: number; bytes: number }>>((resolve) =>
    worker.once('message', resolve),
  )
  const value = await fn()
  worker.postMessage('stop')
  const reads = await done
  await worker.terminate()
  return { value, reads }
}

// ── the run ──────────────────────────────────────────────────────────────────────────────────
const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor(q * s.length))]!
}
const summary = (xs: number[]) =>
  `p50 ${quantile(xs, 0.5).toFixed(2)} ms, p99 ${quantile(xs, 0.99).toFixed(2)} ms, max ${Math.max(...xs).toFixed(1)} ms (${xs.length} answers)`

await probe(3) // warm-up
const census = treeUse(proc.pid!)
console.log(
  `serve's threads and background processes: ${[...census.byName].map(([n, t]) => `${n} ×${t.count} (${t.policy})`).join(', ')}; admin client loops: ${READERS}, ${CLIENT_IDLE ? 'SCHED_IDLE (as if on another machine)' : 'normal priority'}`,
)
const idle: number[] = []
const loaded: number[] = []
let failedIdle = 0
let failedLoaded = 0
const reads: Array<{ path: string; status: number; code: string; ms: number; bytes: number }> = []
for (let round = 0; round < ROUNDS; round++) {
  const t0 = treeUse(proc.pid!)
  const a = await probe(DURATION)
  const t1 = treeUse(proc.pid!)
  idle.push(...a.latencies)
  failedIdle += a.failed
  console.log(`round ${round + 1} idle:  ${summary(a.latencies)}; load average ${load()}`)
  console.log(`               ${threadReport(t0, t1, DURATION, 0)}`)
  const t2 = treeUse(proc.pid!)
  const b = await withAdminReads(() => probe(DURATION))
  const t3 = treeUse(proc.pid!)
  loaded.push(...b.value.latencies)
  failedLoaded += b.value.failed
  reads.push(...b.reads)
  const pages = b.reads.filter((r) => r.status === 200).length
  console.log(
    `round ${round + 1} admin: ${summary(b.value.latencies)}; ${b.reads.length} admin reads (${pages} pages); load average ${load()}`,
  )
  console.log(`               ${threadReport(t2, t3, DURATION, pages, loopMsPerS(t0, t1, DURATION))}`)
}
await pool.close()
proc.kill('SIGTERM')
await new Promise((resolve) => proc.once('exit', resolve))
if (work !== undefined) rmSync(work, { recursive: true, force: true })

console.log(
  `\nSQLite, ${MESSAGES} messages + ${LARGE} events of ~60 KB; before-sends at ${RATE}/s, ${ROUNDS} × ${DURATION} s per phase, alternating`,
)
console.log(`before-send, idle:                       ${summary(idle)}; failed ${failedIdle}`)
console.log(`before-send, ${READERS} admin reads at once:      ${summary(loaded)}; failed ${failedLoaded}`)
console.log(`p99 difference: ${(quantile(loaded, 0.99) - quantile(idle, 0.99)).toFixed(2)} ms`)
const byPath = new Map<string, typeof reads>()
for (const r of reads)
  byPath.set(`${r.path} ${r.status}${r.code ? ' ' + r.code : ''}`, [
    ...(byPath.get(`${r.path} ${r.status}${r.code ? ' ' + r.code : ''}`) ?? []),
    r,
  ])
console.log('\nadmin reads: path, answer, count, p50 / max ms, mean bytes')
for (const [k, rs] of [...byPath].sort()) {
  const ms = rs.map((r) => r.ms)
  console.log(
    `  ${k.padEnd(40)} ${String(rs.length).padStart(5)}   ${quantile(ms, 0.5).toFixed(0).padStart(6)} / ${Math.max(...ms)
      .toFixed(0)
      .padStart(6)}   ${Math.round(rs.reduce((a, r) => a + r.bytes, 0) / rs.length)}`,
  )
}
