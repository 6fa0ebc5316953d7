/**
 * Sinks, measured (docs/benchmarks.md "Sinks"):
 * 1. `serve` (SQLite) with and without three sinks configured (Redis Streams, NATS JetStream, a
 *    webhook), side by side in alternating rounds: callback throughput (the three core callbacks
 *    mixed) and before-send p99 (before-sends alone), wrk on CPU 1, serve on CPU 0. The sink
 *    servers and the webhook receiver run on the same two cores: what is measured is the whole
 *    machine delivering what it takes in.
 * 2. Delivery throughput per sink type: N events already stored, one sink from the beginning,
 *    events/s until its cursor reaches the last one.
 *
 * Needs wrk, and the servers of scripts/sink-test-servers.sh:
 *   eval "$(scripts/sink-test-servers.sh start)"; npm run build; npx tsx bench/sinks.ts [--rounds 3] [--duration 8] [--events 20000]
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { cpus, loadavg, setPriority, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { sign } from '../src/protocol/signature.js'
import { startSinkRunner } from '../src/sinks/run-sinks.js'
import { natsJetStreamSink } from '../src/sinks/nats-jetstream.js'
import { redisStreamSink } from '../src/sinks/redis-stream.js'
import { webhookSink } from '../src/sinks/webhook.js'
import type { Sink } from '../src/sinks/sink.js'
import { openOutbox } from '../src/store/open-outbox.js'
import { openStore } from '../src/store/open-store.js'

const { values: args } = parseArgs({
  options: { rounds: { type: 'string' }, duration: { type: 'string' }, events: { type: 'string' }, only: { type: 'string' } },
})
const ROUNDS = Number(args.rounds ?? 3)
const DURATION = Number(args.duration ?? 8)
const EVENTS = Number(args.events ?? 20_000)
const REDIS = process.env.TIMHOOK_TEST_REDIS_URL
const NATS = process.env.TIMHOOK_TEST_NATS_URL
if (REDIS === undefined || NATS === undefined) throw new Error('start the sink servers first: eval "$(scripts/sink-test-servers.sh start)"')
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
const APP = '1400000000'
const TOKEN = 'bench-token'
const work = mkdtempSync(join(tmpdir(), 'timhook-bench-sinks-'))
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN

/**
 * The destinations stand in for the App's own machines: they run at nice 10 here (the webhook
 * receiver, and Redis and NATS when their pid files are found), so that what is compared is what
 * `serve` itself spends, not what the consumers' servers take from it on the same two cores.
 */
function reniceSinkServers(): string {
  const dir = process.env.TIMHOOK_SINK_DATA ?? '/tmp/timhook-sinks'
  const done: string[] = []
  for (const name of ['redis', 'nats']) {
    try {
      const pid = Number(readFileSync(join(dir, `${name}.pid`), 'utf8').trim())
      setPriority(pid, 10)
      done.push(name)
    } catch {
      // not ours to renice (another data directory, or not permitted): measured as they run
    }
  }
  return done.length === 0 ? 'Redis and NATS at their own priority' : `${done.join(' and ')} at nice 10`
}

/** A webhook receiver in a process of its own: answers 204 to everything. */
function receiver(): Promise<{ url: string; child: ChildProcess }> {
  const code = `require('http').createServer((q,s)=>{q.resume();q.on('end',()=>{s.writeHead(204);s.end()})}).listen(0,'127.0.0.1',function(){console.log(this.address().port)})`
  const child = spawn('nice', ['-n', '10', process.execPath, '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] })
  return new Promise((resolve) =>
    child.stdout!.once('data', (d: Buffer) => resolve({ url: `http://127.0.0.1:${String(d).trim()}/hook`, child })),
  )
}

let port = 23000 + (process.pid % 400) * 5
async function serve(sinks: unknown[] | undefined): Promise<{ child: ChildProcess; port: number; stop: () => Promise<void> }> {
  const p = port++
  const db = join(work, `serve-${p}.db`)
  const child = spawn(
    'taskset',
    [
      '-c',
      '0',
      process.execPath,
      'dist/cli/main.js',
      'serve',
      '--port',
      String(p),
      '--sdk-app-id',
      APP,
      '--token',
      TOKEN,
      '--db',
      db,
      '--log-level',
      'warn',
    ],
    {
      env: { ...process.env, ...(sinks === undefined ? {} : { TIMHOOK_SINKS: JSON.stringify(sinks) }) },
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  )
  for (let i = 0; ; i++) {
    try {
      await fetch(`http://127.0.0.1:${p}/healthz`)
      break
    } catch {
      if (i > 200) throw new Error('serve did not start')
      await sleep(100)
    }
  }
  return {
    child,
    port: p,
    stop: async () => {
      child.kill('SIGTERM')
      await new Promise((r) => child.once('exit', r))
    },
  }
}

function wrk(p: number, seconds: number, only?: 'before'): Promise<{ rps: number; p99ms: number; non2xx: number }> {
  const t = Math.floor(Date.now() / 1000)
  const q = (command: string) =>
    `SdkAppid=${APP}&CallbackCommand=${command}&contenttype=json&ClientIP=10.0.0.1&OptPlatform=RESTAPI&Sign=${sign(TOKEN, t)}&RequestTime=${t}`
  const env = {
    ...process.env,
    Q_BEFORE: q('Group.CallbackBeforeSendMsg'),
    Q_RECALL: q('Group.CallbackAfterRecallMsg'),
    Q_WITHDRAW: q('C2C.CallbackAfterMsgWithDraw'),
    ...(only ? { ONLY: only } : {}),
  }
  return new Promise((resolve, reject) => {
    const child = spawn(
      'taskset',
      [
        '-c',
        '1',
        'wrk',
        '-t',
        '2',
        '-c',
        '100',
        '-d',
        `${seconds}s`,
        '--timeout',
        '5s',
        '-s',
        'bench/lib/mix.lua',
        `http://127.0.0.1:${p}/`,
      ],
      { env },
    )
    let text = ''
    child.stdout.on('data', (d: Buffer) => (text += d.toString()))
    child.stderr.on('data', (d: Buffer) => (text += d.toString()))
    child.on('exit', (code) => {
      const m = /WRKJSON (\{.*\})/.exec(text)
      if (code !== 0 || m === null) return reject(new Error(`wrk: ${text}`))
      const r = JSON.parse(m[1]!) as { requests: number; duration_us: number; p99_us: number; non2xx: number }
      resolve({ rps: r.requests / (r.duration_us / 1e6), p99ms: r.p99_us / 1000, non2xx: r.non2xx })
    })
  })
}

async function sideBySide(hookUrl: string) {
  const three = (tag: string) => [
    { name: 'archive', type: 'redis-stream', url: REDIS, stream: `bench:${tag}`, maxLen: 200_000 },
    { name: 'bus', type: 'nats-jetstream', url: NATS, stream: `BENCH${tag}`, subject: `bench${tag}.{command}` },
    { name: 'billing', type: 'webhook', url: hookUrl, secret: SECRET },
  ]
  const results: Record<string, { mix: number[]; p99: number[]; non2xx: number }> = {
    'no sinks': { mix: [], p99: [], non2xx: 0 },
    'three sinks': { mix: [], p99: [], non2xx: 0 },
  }
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? ['no sinks', 'three sinks'] : ['three sinks', 'no sinks']
    for (const name of order) {
      const s = await serve(name === 'no sinks' ? undefined : three(`${process.pid}x${round}`))
      try {
        await wrk(s.port, 1)
        const mix = await wrk(s.port, DURATION)
        const before = await wrk(s.port, DURATION, 'before')
        results[name]!.mix.push(mix.rps)
        results[name]!.p99.push(before.p99ms)
        results[name]!.non2xx += mix.non2xx + before.non2xx
        console.log(
          `  round ${round + 1} ${name.padEnd(11)} mix ${Math.round(mix.rps).toLocaleString('en').padStart(7)} req/s   before-send p99 ${before.p99ms.toFixed(2)} ms   (load ${loadavg()[0]!.toFixed(2)})`,
        )
      } finally {
        await s.stop()
      }
    }
  }
  const a = results['no sinks']!
  const b = results['three sinks']!
  console.log(
    `\n  median mix throughput: ${Math.round(median(a.mix))} → ${Math.round(median(b.mix))} req/s (× ${(median(b.mix) / median(a.mix)).toFixed(3)})`,
  )
  console.log(
    `  median before-send p99: ${median(a.p99).toFixed(2)} → ${median(b.p99).toFixed(2)} ms (× ${(median(b.p99) / median(a.p99)).toFixed(3)})`,
  )
  console.log(`  non-2xx: ${a.non2xx} / ${b.non2xx}`)
}

async function deliveryRate(hookUrl: string) {
  console.log(`\ndelivery throughput, ${EVENTS} stored events, one sink from the beginning (SQLite store)`)
  const db = join(work, 'delivery.db')
  const store = await openStore(db)
  const body = (i: number) => ({
    CallbackCommand: 'Group.CallbackAfterSendMsg',
    GroupId: '@TGS#bench',
    Type: 'Public',
    From_Account: 'u',
    Operator_Account: 'u',
    Random: i,
    MsgSeq: i,
    MsgTime: 1_700_000_000,
    OnlineOnlyFlag: 0,
    MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: `message ${i} — 今晚八点开会` } }],
    EventTime: 1_700_000_000_000,
  })
  for (let i = 1; i <= EVENTS; i += 500) {
    const writes: Array<Promise<void>> = []
    for (let j = i; j < i + 500 && j <= EVENTS; j++) {
      const b = body(j)
      writes.push(
        store.write({
          command: b.CallbackCommand,
          sdkAppId: APP,
          clientIp: null,
          optPlatform: null,
          receivedAt: Date.now(),
          requestId: `r${j}`,
          rawBody: Buffer.from(JSON.stringify(b)),
          body: b,
          valid: true,
          decision: null,
        }),
      )
    }
    await Promise.all(writes)
  }
  const kinds: Array<[string, () => Sink]> = [
    ['redis-stream', () => redisStreamSink({ name: 'r', url: REDIS!, stream: `bench:rate:${process.pid}` })],
    [
      'nats-jetstream',
      () => natsJetStreamSink({ name: 'n', url: NATS!, stream: `BENCHRATE${process.pid}`, subject: `benchrate${process.pid}.{command}` }),
    ],
    ['webhook', () => webhookSink({ name: 'w', url: hookUrl, secret: SECRET })],
  ]
  for (const [kind, make] of kinds) {
    const outbox = await openOutbox(db)
    const started = performance.now()
    const runner = startSinkRunner({ outbox, sinks: [make()], start: 'beginning', pollMs: 50 })
    while (runner.status()[0]!.delivered < EVENTS) await sleep(20)
    const s = (performance.now() - started) / 1000
    await runner.close()
    await outbox.close()
    console.log(
      `  ${kind.padEnd(15)} ${Math.round(EVENTS / s)
        .toLocaleString('en')
        .padStart(7)} events/s  (${EVENTS} in ${s.toFixed(2)} s, batches of 200)`,
    )
  }
  await store.close()
}

async function main() {
  console.log(
    `bench/sinks.ts — node ${process.version}, ${cpus().length} × ${cpus()[0]?.model}, load average ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  )
  console.log(`destinations: webhook receiver at nice 10, ${reniceSinkServers()}; the sink loops run in serve's sinks thread at nice 10`)
  const hook = await receiver()
  try {
    if (args.only !== 'delivery') {
      console.log(`\nserve (SQLite) without and with three sinks: ${ROUNDS} rounds × ${DURATION} s, 100 connections`)
      await sideBySide(hook.url)
    }
    if (args.only !== 'serve') await deliveryRate(hook.url)
  } finally {
    hook.child.kill()
    rmSync(work, { recursive: true, force: true })
  }
  console.log(
    `\nload average after: ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  )
}

void main()
