/**
 * Memory of `timhook serve` while PostgreSQL hangs: 1,500 callbacks/s (two after-sends for each
 * before-send), open loop, for `--before` s normally, `--hang` s with the database hung, `--after` s
 * once it answers again. "Hung" is a TCP proxy between the server and PostgreSQL that stops
 * forwarding (connections stay open, nothing is answered) — what a stopped or unreachable
 * server looks like — so the shared PostgreSQL itself is never stopped.
 *
 * Reports the server's RSS (sampled each second from /proc) before and during the hang, the
 * answers per phase, and checks afterwards that every after-send answered 200 is stored once.
 *
 *   npm run build && TIMHOOK_TEST_PG_URL=postgres://… npx tsx bench/store-hang.ts [--rate 1500] [--before 10] [--hang 60] [--after 20]
 */
import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import net from 'node:net'
import { parseArgs } from 'node:util'
import pg from 'pg'
import { Pool } from 'undici'

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '1500' },
    before: { type: 'string', default: '10' },
    hang: { type: 'string', default: '60' },
    after: { type: 'string', default: '20' },
    serve: { type: 'string', default: '' },
  },
})
const PG_URL = process.env.TIMHOOK_BENCH_PG_URL ?? process.env.TIMHOOK_TEST_PG_URL
if (PG_URL === undefined) throw new Error('set TIMHOOK_TEST_PG_URL (or TIMHOOK_BENCH_PG_URL)')
if (!existsSync('dist/cli/main.js')) throw new Error('run `npm run build` first')
const RATE = Number(values.rate)
const APP = '1400000000'
const upstream = new URL(PG_URL)

// ── the proxy ────────────────────────────────────────────────────────────────────────────────
let hung = false
const held: Array<() => void> = []
const pairs = new Set<{ a: net.Socket; b: net.Socket }>()
const proxy = net.createServer((client) => {
  client.on('error', () => {})
  const connect = () => {
    const server = net.connect(Number(upstream.port || 5432), upstream.hostname)
    server.on('error', () => client.destroy())
    const pair = { a: client, b: server }
    pairs.add(pair)
    const forward = (from: net.Socket, to: net.Socket) =>
      from.on('data', (d) => {
        if (hung) held.push(() => to.write(d))
        else to.write(d)
      })
    forward(client, server)
    forward(server, client)
    const close = () => {
      pairs.delete(pair)
      client.destroy()
      server.destroy()
    }
    client.on('close', close)
    server.on('close', close)
  }
  if (hung) held.push(connect)
  else connect()
})
await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
const proxied = new URL(PG_URL)
proxied.hostname = '127.0.0.1'
proxied.port = String((proxy.address() as net.AddressInfo).port)

// ── the server ───────────────────────────────────────────────────────────────────────────────
const schema = `bench_hang_${process.pid}`
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
    proxied.href,
    '--pg-schema',
    schema,
    '--log-level',
    'info',
    ...values.serve.split(' ').filter(Boolean),
  ],
  { stdio: ['ignore', 'pipe', 'inherit'] },
)
const logLines: string[] = []
const url = await new Promise<string>((resolve) => {
  let buf = ''
  proc.stdout!.on('data', (c: Buffer) => {
    buf += c.toString()
    let nl: number
    while ((nl = buf.indexOf('\n')) !== -1) {
      const line = buf.slice(0, nl)
      buf = buf.slice(nl + 1)
      logLines.push(line)
      const m = /"url":"(http:[^"]+)"/.exec(line)
      if (m) resolve(m[1]!)
    }
  })
})
const rss = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${proc.pid}/status`, 'utf8'))![1]) / 1024

// ── the load: open loop, RATE/s in 10 ms ticks ───────────────────────────────────────────────
const pool = new Pool(url, { connections: 4000, pipelining: 1 })
const query = (command: string) => `/?SdkAppid=${APP}&CallbackCommand=${command}&contenttype=json&ClientIP=10.0.0.1&OptPlatform=RESTAPI`
type Phase = 'before' | 'hang' | 'after'
let phase: Phase = 'before'
const answers: Record<Phase, Record<string, number>> = { before: {}, hang: {}, after: {} }
const acked: number[] = []
let seq = 0
function send(): void {
  const n = ++seq
  const p = phase
  const isBefore = n % 3 === 0
  const base = {
    GroupId: `@TGS#hang${n % 97}`,
    Type: 'Public',
    From_Account: `u${n % 500}`,
    Random: n,
    OnlineOnlyFlag: 0,
    MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: `message ${n} `.repeat(8) } }],
  }
  const body = isBefore
    ? JSON.stringify({ CallbackCommand: 'Group.CallbackBeforeSendMsg', ...base, EventTime: 1670574414123 })
    : JSON.stringify({ CallbackCommand: 'Group.CallbackAfterSendMsg', ...base, MsgSeq: n, MsgTime: 1670574414, EventTime: 1670574414123 })
  pool
    .request({
      method: 'POST',
      path: query(isBefore ? 'Group.CallbackBeforeSendMsg' : 'Group.CallbackAfterSendMsg'),
      body,
      headers: { 'content-type': 'application/json' },
    })
    .then(
      async (res) => {
        const text = await res.body.text()
        const key =
          res.statusCode === 200
            ? '200'
            : `${res.statusCode} ${/TIMHOOK_STORE_BACKLOG/.test(text) ? 'backlog' : /did not finish/.test(text) ? 'deadline' : 'failed commit'}`
        answers[p][key] = (answers[p][key] ?? 0) + 1
        if (!isBefore && res.statusCode === 200) acked.push(n)
      },
      () => (answers[p].error = (answers[p].error ?? 0) + 1),
    )
}
const samples: Record<Phase, number[]> = { before: [], hang: [], after: [] }
const tick = setInterval(() => {
  for (let i = 0; i < RATE / 100; i++) send()
}, 10)
const sampler = setInterval(() => samples[phase].push(rss()), 1000)
const wait = (s: number) => new Promise((resolve) => setTimeout(resolve, s * 1000))

await wait(Number(values.before))
phase = 'hang'
hung = true
await wait(Number(values.hang))
phase = 'after'
hung = false
for (const f of held.splice(0)) f()
await wait(Number(values.after))
clearInterval(tick)
clearInterval(sampler)
await wait(3) // the last answers
proc.kill('SIGTERM')
await new Promise((resolve) => proc.once('exit', resolve))
await pool.close()
for (const p of pairs) p.a.destroy()
proxy.close()

// ── every 200 stored once ────────────────────────────────────────────────────────────────────
const client = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${schema}` })
await client.connect()
const { rows } = await client.query(`SELECT msg_seq::int AS n, count(*)::int AS c FROM messages WHERE body IS NOT NULL GROUP BY msg_seq`)
const stored = new Map(rows.map((r) => [r.n as number, r.c as number]))
const lost = acked.filter((n) => !stored.has(n)).length
const twice = [...stored.values()].filter((c) => c > 1).length
await client.query(`DROP SCHEMA ${schema} CASCADE`)
await client.end()

const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length)
const baseline = avg(samples.before.slice(-3))
const peakHang = Math.max(...samples.hang)
const peak = Math.max(peakHang, ...samples.after)
const errorLines = logLines.filter((l) => /"level":50/.test(l)).length
console.log(`rate ${RATE}/s (2 after-sends : 1 before-send), PostgreSQL hung ${values.hang} s through a TCP proxy that stops forwarding`)
console.log(`server flags: ${values.serve || '(defaults)'}`)
console.log(
  `RSS: ${baseline.toFixed(0)} MB before the hang; peak ${peakHang.toFixed(0)} MB during it (+${(peakHang - baseline).toFixed(0)} MB), ${peak.toFixed(0)} MB during or after it (+${(peak - baseline).toFixed(0)} MB)`,
)
console.log(`RSS each second of the hang (MB): ${samples.hang.map((x) => x.toFixed(0)).join(' ')}`)
console.log(`RSS each second after it (MB): ${samples.after.map((x) => x.toFixed(0)).join(' ')}`)
for (const p of ['before', 'hang', 'after'] as const) console.log(`answers ${p}: ${JSON.stringify(answers[p])}`)
console.log(
  `after-sends answered 200: ${acked.length}; stored: ${stored.size}; 200 but not stored: ${lost}; stored twice: ${twice}; error log lines: ${errorLines}`,
)
