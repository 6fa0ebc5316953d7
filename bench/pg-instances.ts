/**
 * Aggregate throughput of 1, 2 and 3 `timhook serve` processes over one PostgreSQL schema, and of
 * one instance with one commit in flight against several (`--pg-commits-in-flight`).
 *
 * Each case: a fresh schema, the instances started from dist/ (`npm run build` first), a closed
 * loop of keep-alive requests spread round-robin over the instances (undici, in this process):
 * the three callbacks whose records link — before-send, after-send (durable: answered after its
 * commit), recall — one message at a time. Cases run in alternating rounds; the median is reported.
 * The load generator shares the machine with the servers and PostgreSQL: read the ratios.
 *
 *   TIMHOOK_TEST_PG_URL=postgres://… npx tsx bench/pg-instances.ts [--rounds 3] [--seconds 8] [--connections 96]
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { parseArgs } from 'node:util'
import pg from 'pg'
import { Pool } from 'undici'

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '8' },
    connections: { type: 'string', default: '96' },
  },
})
const PG_URL = process.env.TIMHOOK_BENCH_PG_URL ?? process.env.TIMHOOK_TEST_PG_URL
if (PG_URL === undefined) throw new Error('set TIMHOOK_TEST_PG_URL (or TIMHOOK_BENCH_PG_URL)')
if (!existsSync('dist/cli/main.js')) throw new Error('run `npm run build` first (the instances run dist/)')
const SECONDS = Number(values.seconds)
const CONNECTIONS = Number(values.connections)
const APP = '1400000000'

interface Case {
  name: string
  instances: number
  inFlight: number
}
const CASES: Case[] = [
  { name: '1 instance, 1 commit in flight', instances: 1, inFlight: 1 },
  { name: '1 instance', instances: 1, inFlight: 4 },
  { name: '2 instances', instances: 2, inFlight: 4 },
  { name: '3 instances', instances: 3, inFlight: 4 },
]

async function start(schema: string, inFlight: number): Promise<{ proc: ChildProcess; url: string }> {
  const proc = spawn(
    process.execPath,
    [
      'dist/cli/main.js',
      'serve',
      '--port',
      '0',
      '--sdk-app-id',
      APP,
      '--db',
      PG_URL!,
      '--pg-schema',
      schema,
      '--pg-commits-in-flight',
      String(inFlight),
      '--log-level',
      'info',
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  )
  const url = await new Promise<string>((resolve, reject) => {
    let buf = ''
    proc.stdout!.on('data', (c: Buffer) => {
      buf += c.toString()
      const m = /"url":"(http:[^"]+)"/.exec(buf)
      if (m) resolve(m[1]!)
    })
    proc.once('exit', (code) => reject(new Error(`serve exited with ${code}`)))
  })
  proc.stdout!.resume()
  return { proc, url }
}

let messageSeq = 0
const query = (command: string) => `/?SdkAppid=${APP}&CallbackCommand=${command}&contenttype=json&ClientIP=10.0.0.1&OptPlatform=RESTAPI`
function bodies(): Array<[string, string]> {
  const n = ++messageSeq
  const g = `@TGS#bench${n % 97}`
  const base = {
    GroupId: g,
    Type: 'Public',
    From_Account: `user${n % 500}`,
    Operator_Account: `user${n % 500}`,
    Random: n,
    OnlineOnlyFlag: 0,
    MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: `今晚八点开会 #${n}` } }],
  }
  return [
    [
      query('Group.CallbackBeforeSendMsg'),
      JSON.stringify({ CallbackCommand: 'Group.CallbackBeforeSendMsg', ...base, EventTime: 1670574414123 }),
    ],
    [
      query('Group.CallbackAfterSendMsg'),
      JSON.stringify({ CallbackCommand: 'Group.CallbackAfterSendMsg', ...base, MsgSeq: n, MsgTime: 1670574414, EventTime: 1670574414123 }),
    ],
    [
      query('Group.CallbackAfterRecallMsg'),
      JSON.stringify({
        CallbackCommand: 'Group.CallbackAfterRecallMsg',
        GroupId: g,
        Type: 'Public',
        Operator_Account: 'admin',
        MsgSeqList: [{ MsgSeq: n }],
        EventTime: 1670574415123,
      }),
    ],
  ]
}

async function measure(urls: string[]): Promise<{ perSecond: number; failed: number }> {
  const pools = urls.map((u) => new Pool(u, { connections: Math.ceil(CONNECTIONS / urls.length), pipelining: 1 }))
  let ok = 0
  let failed = 0
  let counting = false
  let stop = false
  let turn = 0
  const worker = async () => {
    while (!stop) {
      for (const [path, body] of bodies()) {
        const pool = pools[turn++ % pools.length]!
        const res = await pool.request({ method: 'POST', path, body, headers: { 'content-type': 'application/json' } })
        await res.body.text()
        if (counting) {
          if (res.statusCode === 200) ok++
          else failed++
        }
      }
    }
  }
  const workers = Array.from({ length: CONNECTIONS }, worker)
  await new Promise((resolve) => setTimeout(resolve, 1500)) // warm-up: pools, JIT, first batches
  counting = true
  const t0 = performance.now()
  await new Promise((resolve) => setTimeout(resolve, SECONDS * 1000))
  const seconds = (performance.now() - t0) / 1000
  counting = false
  stop = true
  await Promise.all(workers)
  await Promise.all(pools.map((p) => p.close()))
  return { perSecond: ok / seconds, failed }
}

async function run(c: Case): Promise<{ perSecond: number; failed: number }> {
  const schema = `bench_inst_${process.pid}_${Math.random().toString(36).slice(2, 8)}`
  const servers = await Promise.all(Array.from({ length: c.instances }, () => start(schema, c.inFlight)))
  try {
    return await measure(servers.map((s) => s.url))
  } finally {
    for (const s of servers) s.proc.kill('SIGTERM')
    await Promise.all(servers.map((s) => new Promise((resolve) => s.proc.once('exit', resolve))))
    const client = new pg.Client({ connectionString: PG_URL })
    await client.connect()
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
    await client.end()
  }
}

const results = new Map<string, Array<{ perSecond: number; failed: number }>>(CASES.map((c) => [c.name, []]))
for (let round = 0; round < Number(values.rounds); round++) {
  for (const c of round % 2 === 0 ? CASES : [...CASES].reverse()) {
    const r = await run(c)
    results.get(c.name)!.push(r)
    console.error(`round ${round + 1}: ${c.name}: ${Math.round(r.perSecond)} req/s, ${r.failed} not 200`)
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const base = median(results.get('1 instance')!.map((r) => r.perSecond))
console.log(
  `\n${CONNECTIONS} keep-alive connections, ${SECONDS} s per run, ${values.rounds} alternating rounds, median; before-send + after-send + recall per message\n`,
)
console.log('case                              req/s (all instances)   × 1 instance   answered other than 200')
for (const c of CASES) {
  const rs = results.get(c.name)!
  const ps = median(rs.map((r) => r.perSecond))
  console.log(
    `${c.name.padEnd(33)} ${Math.round(ps).toLocaleString('en').padStart(21)}   ${(ps / base).toFixed(2).padStart(12)}   ${String(rs.reduce((n, r) => n + r.failed, 0)).padStart(10)}`,
  )
}
