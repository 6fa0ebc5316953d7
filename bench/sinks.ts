/**
 * Sinks, measured (docs/benchmarks.md "Sinks"):
 * 1. At saturation: `serve` (SQLite) with and without three sinks configured (Redis Streams, NATS
 *    JetStream, a webhook), side by side in alternating rounds: callback throughput (the three core
 *    callbacks mixed, 100 connections) and before-send p99 (before-sends alone), wrk on CPU 1,
 *    serve on CPU 0; after each round with sinks, how far they are behind.
 * 2. At 80 % of the maximum (paced: each connection pauses after every answer, `DELAY_MS` in
 *    bench/lib/mix.lua; the connections are calibrated on serve without sinks): the same pairs,
 *    the rate reached and the p50/p99 of the mix, then of before-sends alone — where a real
 *    deployment runs — and whether the sinks keep up there.
 * 3. Delivery throughput per sink type: N events already stored, one sink from the beginning,
 *    events/s until its cursor reaches the last one.
 *
 * The destinations stand in for the App's own machines: the bench starts its own Redis and NATS
 * (scripts/sink-test-servers.sh, in a temporary directory, on ports of its own) and a webhook
 * receiver, all at the lowest priority (SCHED_IDLE with util-linux's chrt, else nice 19), so that
 * what is compared is what `serve` spends, not what the consumers' servers take from it on the
 * same two cores. Every round is printed, with the machine, the versions and the load average.
 *
 * Needs wrk, redis-server and nats-server:
 *   npm run build; npx tsx bench/sinks.ts [--rounds 3] [--duration 8] [--events 20000] [--only serve|paced|delivery]
 *     [--background process|thread (where serve runs the sinks; default: serve's own)]
 *
 * Every round prints the CPU of each thread of serve and of its background processes (the sinks'
 * child process: `sinks main`, `sinks V8Worker`, …, at SCHED_IDLE), V8's helpers included, beside
 * the p99.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { availableParallelism, cpus, loadavg, release, setPriority, tmpdir } from 'node:os'
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
import { treeUse } from './proc-threads.js'

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string' },
    duration: { type: 'string' },
    events: { type: 'string' },
    only: { type: 'string' },
    background: { type: 'string' },
  },
})
const ROUNDS = Number(args.rounds ?? 3)
const DURATION = Number(args.duration ?? 8)
const EVENTS = Number(args.events ?? 20_000)
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
const APP = '1400000000'
const TOKEN = 'bench-token'
const ADMIN = 'bench-admin-token-0123456789'
/** Paced load: each connection pauses this long after every answer (bench/lib/mix.lua). */
const DELAY_MS = 2
const work = mkdtempSync(join(tmpdir(), 'timhook-bench-sinks-'))
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN
const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')

/** Lowers a process (all its threads) to SCHED_IDLE, else nice 19; says which. */
function lowest(pid: number): string {
  try {
    execFileSync('chrt', ['--all-tasks', '--idle', '--pid', '0', String(pid)], { stdio: 'ignore' })
    return 'SCHED_IDLE'
  } catch {
    try {
      setPriority(pid, 19)
      return 'nice 19'
    } catch {
      return 'normal priority'
    }
  }
}

/** The bench's own Redis and NATS (scripts/sink-test-servers.sh in a directory of its own), at the lowest priority. */
const SINK_ENV = {
  ...process.env,
  TIMHOOK_SINK_DATA: join(work, 'servers'),
  TIMHOOK_REDIS_PORT: String(56_500 + (process.pid % 400)),
  TIMHOOK_NATS_PORT: String(54_500 + (process.pid % 400)),
}
function startSinkServers(): { redis: string; nats: string; priority: string; versions: string } {
  // Redis first, started here as the script would but not daemonized: a daemon calls setsid(), and
  // a session of its own is a scheduling group of its own (autogroup) that takes an equal share of
  // the cores whatever its threads' priority. The script then finds it running and starts NATS.
  const dir = SINK_ENV.TIMHOOK_SINK_DATA
  mkdirSync(dir, { recursive: true })
  const port = SINK_ENV.TIMHOOK_REDIS_PORT
  const redisArgs = ['--bind', '127.0.0.1', '--port', port, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always']
  spawn('redis-server', [...redisArgs, '--pidfile', join(dir, 'redis.pid'), '--logfile', join(dir, 'redis.log'), '--dir', dir], {
    stdio: 'ignore',
  }).unref()
  for (let i = 0; ; i++) {
    try {
      if (execFileSync('redis-cli', ['-p', port, 'ping'], { encoding: 'utf8' }).includes('PONG')) break
    } catch {
      // not up yet
    }
    if (i > 100) throw new Error(`redis-server did not start (see ${dir}/redis.log)`)
    execFileSync('sleep', ['0.1'])
  }
  const out = execFileSync('scripts/sink-test-servers.sh', ['start'], { env: SINK_ENV, encoding: 'utf8' })
  const redis = /TIMHOOK_TEST_REDIS_URL=(\S+)/.exec(out)?.[1]
  const nats = /TIMHOOK_TEST_NATS_URL=(\S+)/.exec(out)?.[1]
  if (redis === undefined || nats === undefined) throw new Error(`redis-server and nats-server are needed: ${out}`)
  const autogroup = (pid: number | string) => {
    try {
      return readFileSync(`/proc/${pid}/autogroup`, 'utf8').split(' ')[0]!.replace('/', '')
    } catch {
      return 'no autogroup'
    }
  }
  const priority = ['redis', 'nats']
    .map((name) => {
      const pid = Number(readFileSync(join(dir, `${name}.pid`), 'utf8').trim())
      return `${name} ${lowest(pid)} (${autogroup(pid)})`
    })
    .join(', ')
    .concat(`; this bench ${autogroup('self')}`)
  const version = (cmd: string, arg: string) => {
    try {
      return execFileSync(cmd, [arg], { encoding: 'utf8' }).trim().split('\n')[0]!
    } catch {
      return `${cmd} (version unknown)`
    }
  }
  return { redis, nats, priority, versions: `${version('redis-server', '--version')}; ${version('nats-server', '--version')}` }
}
const stopSinkServers = () => execFileSync('scripts/sink-test-servers.sh', ['stop'], { env: SINK_ENV, stdio: 'ignore' })

/** A webhook receiver in a process of its own at the lowest priority: answers 204 to everything. */
function receiver(): Promise<{ url: string; child: ChildProcess; priority: string }> {
  const code = `require('http').createServer((q,s)=>{q.resume();q.on('end',()=>{s.writeHead(204);s.end()})}).listen(0,'127.0.0.1',function(){console.log(this.address().port)})`
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] })
  const priority = lowest(child.pid!)
  return new Promise((resolve) =>
    child.stdout!.once('data', (d: Buffer) => resolve({ url: `http://127.0.0.1:${String(d).trim()}/hook`, child, priority })),
  )
}

/** How each named thread of serve and of its background processes (`sinks main`, `sinks V8Worker`, …) is scheduled and how much CPU it used (from /proc). */
function threadsOf(pid: number): Map<string, { policy: string; cpuMs: number; count: number }> {
  const t = treeUse(pid)
  const out = new Map([['event loop', { policy: 'nice 0', cpuMs: t.loop.cpu / 1e6, count: 1 }]])
  for (const [name, u] of t.byName) out.set(name, { policy: u.policy, cpuMs: u.cpu / 1e6, count: u.count })
  return out
}
const threadText = (m: Map<string, { policy: string; cpuMs: number; count: number }>) =>
  [...m]
    .filter(([name, t]) => !/^(DelayedTaskSche|SignalInspector)$/.test(name) && t.cpuMs >= 1)
    .map(([name, t]) => `${name}${t.count > 1 ? ` ×${t.count}` : ''} (${t.policy}) ${Math.round(t.cpuMs)} ms`)
    .join(', ')

let REDIS = ''
let NATS = ''

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
      '--admin-token',
      ADMIN,
      '--log-level',
      'warn',
    ],
    {
      env: {
        ...process.env,
        ...(sinks === undefined ? {} : { TIMHOOK_SINKS: JSON.stringify(sinks) }),
        ...(args.background === undefined ? {} : { TIMHOOK_BACKGROUND: args.background }),
      },
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

/** What the sinks of a serve still have to deliver (its admin API), e.g. "archive 1,204, bus 0, billing 55". */
async function sinkLag(p: number): Promise<{ text: string; total: number }> {
  try {
    const res = await fetch(`http://127.0.0.1:${p}/api/sinks`, { headers: { authorization: `Bearer ${ADMIN}` } })
    const body = (await res.json()) as { sinks: Array<{ name: string; lag: { events: number | null } }> }
    const total = body.sinks.reduce((a, s) => a + (s.lag.events ?? 0), 0)
    return { text: body.sinks.map((s) => `${s.name} ${(s.lag.events ?? 0).toLocaleString('en')}`).join(', '), total }
  } catch (err) {
    return { text: `unknown (${String(err)})`, total: NaN }
  }
}

interface WrkResult {
  rps: number
  p50ms: number
  p99ms: number
  maxms: number
  non2xx: number
}
function wrk(p: number, seconds: number, only?: 'before', pace?: { connections: number; delayMs: number }): Promise<WrkResult> {
  const t = Math.floor(Date.now() / 1000)
  const q = (command: string) =>
    `SdkAppid=${APP}&CallbackCommand=${command}&contenttype=json&ClientIP=10.0.0.1&OptPlatform=RESTAPI&Sign=${sign(TOKEN, t)}&RequestTime=${t}`
  const env = {
    ...process.env,
    Q_BEFORE: q('Group.CallbackBeforeSendMsg'),
    Q_RECALL: q('Group.CallbackAfterRecallMsg'),
    Q_WITHDRAW: q('C2C.CallbackAfterMsgWithDraw'),
    ...(only ? { ONLY: only } : {}),
    ...(pace ? { DELAY_MS: String(pace.delayMs) } : {}),
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
        String(pace?.connections ?? 100),
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
      const r = JSON.parse(m[1]!) as {
        requests: number
        duration_us: number
        p50_us: number
        p99_us: number
        max_us: number
        non2xx: number
      }
      resolve({
        rps: r.requests / (r.duration_us / 1e6),
        p50ms: r.p50_us / 1000,
        p99ms: r.p99_us / 1000,
        maxms: r.max_us / 1000,
        non2xx: r.non2xx,
      })
    })
  })
}

const threeSinks = (hookUrl: string, tag: string) => [
  { name: 'archive', type: 'redis-stream', url: REDIS, stream: `bench:${tag}`, maxLen: 200_000 },
  { name: 'bus', type: 'nats-jetstream', url: NATS, stream: `BENCH${tag}`, subject: `bench${tag}.{command}` },
  { name: 'billing', type: 'webhook', url: hookUrl, secret: SECRET },
]
const CASES = ['no sinks', 'three sinks'] as const
type Case = (typeof CASES)[number]
const ms = (x: number) => x.toFixed(2)
const rate = (x: number) => Math.round(x).toLocaleString('en').padStart(7)

/**
 * Pairs of rounds, the order alternating: per case, the mix then before-sends alone (unpaced, or
 * paced), and after a case with sinks, how far they are behind. Returns the medians per case.
 */
async function rounds(hookUrl: string, label: string, pace?: { connections: number; delayMs: number }) {
  const results = Object.fromEntries(CASES.map((c) => [c, { mix: [] as WrkResult[], before: [] as WrkResult[], non2xx: 0 }])) as Record<
    Case,
    { mix: WrkResult[]; before: WrkResult[]; non2xx: number }
  >
  for (let round = 0; round < ROUNDS; round++) {
    const order: Case[] = round % 2 === 0 ? ['no sinks', 'three sinks'] : ['three sinks', 'no sinks']
    for (const name of order) {
      const s = await serve(name === 'no sinks' ? undefined : threeSinks(hookUrl, `${process.pid}x${label.length}x${round}`))
      try {
        await wrk(s.port, 1, undefined, pace)
        const cpu0 = threadsOf(s.child.pid!)
        const mix = await wrk(s.port, DURATION, undefined, pace)
        const before = await wrk(s.port, DURATION, 'before', pace)
        const cpu1 = threadsOf(s.child.pid!)
        const r = results[name]
        r.mix.push(mix)
        r.before.push(before)
        r.non2xx += mix.non2xx + before.non2xx
        const lag = name === 'no sinks' ? undefined : await sinkLag(s.port)
        console.log(
          `  ${label} round ${round + 1} ${name.padEnd(11)} mix ${rate(mix.rps)} req/s p50 ${ms(mix.p50ms)} p99 ${ms(mix.p99ms)} ms · before-send ${rate(before.rps)} req/s p50 ${ms(before.p50ms)} p99 ${ms(before.p99ms)} max ${ms(before.maxms)} ms · load ${load()}`,
        )
        const used = new Map([...cpu1].map(([n, t]) => [n, { ...t, cpuMs: t.cpuMs - (cpu0.get(n)?.cpuMs ?? 0) }]))
        // CPU per callback answered: the event loop and the writer do the callbacks' work; steadier than req/s on a shared machine.
        const answered = (mix.rps + before.rps) * DURATION
        const perCallback = (name: string) => (((used.get(name)?.cpuMs ?? 0) * 1000) / answered).toFixed(1)
        console.log(
          `      serve's threads and its sinks process over the ${2 * DURATION} s: ${threadText(used)}; per callback: event loop ${perCallback('event loop')} µs, writer ${perCallback('sqlite-writer-t')} µs`,
        )
        if (lag !== undefined) console.log(`      sinks behind at the end: ${lag.text} events`)
      } finally {
        await s.stop()
      }
    }
  }
  const med = (c: Case, f: (r: { mix: WrkResult[]; before: WrkResult[] }) => WrkResult[], k: keyof WrkResult) =>
    median(f(results[c]).map((x) => x[k]))
  const line = (what: string, f: (r: { mix: WrkResult[]; before: WrkResult[] }) => WrkResult[], k: keyof WrkResult, unit: string) => {
    const a = med('no sinks', f, k)
    const b = med('three sinks', f, k)
    console.log(
      `  ${label} median ${what}: ${k === 'rps' ? Math.round(a) : ms(a)} → ${k === 'rps' ? Math.round(b) : ms(b)} ${unit} (× ${(b / a).toFixed(3)})`,
    )
  }
  console.log('')
  line('mix throughput', (r) => r.mix, 'rps', 'req/s')
  line('mix p99', (r) => r.mix, 'p99ms', 'ms')
  line('before-send throughput', (r) => r.before, 'rps', 'req/s')
  line('before-send p99', (r) => r.before, 'p99ms', 'ms')
  console.log(`  ${label} non-2xx: ${results['no sinks'].non2xx} / ${results['three sinks'].non2xx}`)
  return { maxRps: med('no sinks', (r) => r.mix, 'rps') }
}

/** Connections that pace serve without sinks at `fraction` of `maxRps` (two 2-second trials, as bench/lib/paced.ts does). */
async function calibrate(maxRps: number, fraction: number): Promise<{ connections: number; delayMs: number }> {
  const target = maxRps * fraction
  let connections = Math.max(1, Math.round((target * (DELAY_MS + 1)) / 1000))
  const s = await serve(undefined)
  const trials: string[] = []
  try {
    await wrk(s.port, 1)
    for (let i = 0; i < 2; i++) {
      const r = await wrk(s.port, 2, undefined, { connections, delayMs: DELAY_MS })
      trials.push(`${connections} → ${Math.round(r.rps)}`)
      connections = Math.max(1, Math.min(1000, Math.round((connections * target) / Math.max(1, r.rps))))
    }
  } finally {
    await s.stop()
  }
  console.log(
    `\nat ${Math.round(fraction * 100)} % of the maximum: ${Math.round(maxRps)} req/s × ${fraction} = ${Math.round(target)} req/s, ${connections} connections pausing ${DELAY_MS} ms after each answer (trials ${trials.join(', ')}); ${ROUNDS} rounds × ${DURATION} s`,
  )
  return { connections, delayMs: DELAY_MS }
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
    `bench/sinks.ts — ${new Date().toISOString()}, node ${process.version}, Linux ${release()}, ${availableParallelism()} × ${cpus()[0]?.model}, load average ${load()}`,
  )
  const servers = startSinkServers()
  REDIS = servers.redis
  NATS = servers.nats
  const hook = await receiver()
  console.log(
    `destinations: ${servers.versions}; ${servers.priority}, webhook receiver ${hook.priority} (in production they run on other machines)`,
  )
  try {
    let maxRps = NaN
    if (args.only === undefined || args.only === 'serve') {
      console.log(`\nat saturation: serve (SQLite) without and with three sinks, ${ROUNDS} rounds × ${DURATION} s, 100 connections`)
      maxRps = (await rounds(hook.url, 'saturation')).maxRps
    }
    if (args.only === undefined || args.only === 'paced') {
      if (Number.isNaN(maxRps)) {
        const s = await serve(undefined)
        try {
          await wrk(s.port, 1)
          maxRps = (await wrk(s.port, DURATION)).rps
        } finally {
          await s.stop()
        }
      }
      await rounds(hook.url, 'paced 80 %', await calibrate(maxRps, 0.8))
    }
    if (args.only === undefined || args.only === 'delivery') await deliveryRate(hook.url)
  } finally {
    hook.child.kill()
    stopSinkServers()
    rmSync(work, { recursive: true, force: true })
  }
  console.log(`\nload average after: ${load()}`)
}

void main()
