/**
 * `npm run bench`: side-by-side HTTP benchmarks of callback receivers on loopback (docs/benchmarks.md).
 *
 * Each target runs in its own process pinned to CPU 0; the load generator (wrk, keep-alive, the three
 * core callbacks mixed, signed) is pinned to CPU 1. Cases run in alternating rounds so that noise on
 * this shared machine hits them alike; the table reports the median round and ratios between cases.
 *
 *   npx tsx bench/run.ts [--quick] [--rounds 3] [--duration 8] [--cases limit,naive,library,server-sqlite,server-pg,server-policy]
 *   npx tsx bench/run.ts --policy-only   (before-send throughput with and without the example policy, alone)
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { sign } from '../src/protocol/signature.js'
import { renderChart } from './lib/chart.js'

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    duration: { type: 'string' },
    cases: { type: 'string' },
    'skip-extras': { type: 'boolean', default: false },
    'policy-only': { type: 'boolean', default: false },
  },
})
const QUICK = args.quick
const ROUNDS = Number(args.rounds ?? (QUICK ? 1 : 3))
const DURATION = Number(args.duration ?? (QUICK ? 3 : 8))
const SDK_APP_ID = '1400000000'
const TOKEN = 'bench-token'
const ADMIN = 'bench-admin-token-0123456789'
const work = join(tmpdir(), `timhook-bench-${process.pid}`)
mkdirSync(work, { recursive: true })

interface Target {
  name: string
  /** The argv of the target process (run under `taskset -c 0`). */
  argv: (port: number) => string[]
  env?: Record<string, string>
  available: () => string | true
}

const node = process.execPath
const pgUrl = process.env.TIMHOOK_BENCH_PG_URL ?? process.env.TIMHOOK_TEST_PG_URL
const serveArgs = (port: number, db: string, extra: string[] = []) => [
  node,
  'dist/cli/main.js',
  'serve',
  '--host',
  '127.0.0.1',
  '--port',
  String(port),
  '--sdk-app-id',
  SDK_APP_ID,
  '--token',
  TOKEN,
  '--admin-token',
  ADMIN,
  '--db',
  db,
  ...extra,
]
let dbCounter = 0
const TARGETS: Target[] = [
  { name: 'limit', argv: () => [node, 'bench/targets/limit.mjs'], available: () => true },
  { name: 'limit-parse', argv: () => [node, 'bench/targets/limit-parse.mjs'], available: () => true },
  { name: 'naive', argv: () => [node, 'bench/targets/naive.mjs'], available: () => true },
  { name: 'library', argv: () => [node, 'bench/targets/library.mjs'], available: () => true },
  {
    name: 'server-sqlite',
    argv: (port) => serveArgs(port, join(work, `bench-${++dbCounter}.db`)),
    available: () => serveAvailable(),
  },
  {
    name: 'server-pg',
    argv: (port) => serveArgs(port, pgUrl!),
    available: () => (pgUrl === undefined ? 'set TIMHOOK_BENCH_PG_URL (or TIMHOOK_TEST_PG_URL) to a PostgreSQL URL' : serveAvailable()),
  },
  {
    name: 'server-policy',
    argv: (port) => serveArgs(port, join(work, `bench-${++dbCounter}.db`), ['--policy', 'examples/policy.yaml']),
    available: () => (existsSync('examples/policy.yaml') ? serveAvailable() : 'examples/policy.yaml is missing'),
  },
]

function serveAvailable(): string | true {
  try {
    const help = execFileSync(node, ['dist/cli/main.js', 'serve', '--help'], { encoding: 'utf8' })
    return help.includes('--db') ? true : '`timhook serve` is not built (run npm run build)'
  } catch {
    return '`timhook serve` is not available'
  }
}

// ── processes ─────────────────────────────────────────────────────────────────────────────
// Below Linux's ephemeral range (32768–60999), where wrk's and the database clients' own sockets live.
let nextPort = 21000 + (process.pid % 500) * 20

async function startTarget(t: Target, attempt = 1): Promise<{ child: ChildProcess; port: number; stop: () => Promise<void> }> {
  try {
    return await startTargetOnce(t)
  } catch (err) {
    if (attempt < 3 && /EADDRINUSE/.test(String(err))) return startTarget(t, attempt + 1)
    throw err
  }
}

async function startTargetOnce(t: Target): Promise<{ child: ChildProcess; port: number; stop: () => Promise<void> }> {
  const port = nextPort++
  const argv = t.argv(port)
  const child = spawn('taskset', ['-c', '0', ...argv], {
    env: { ...process.env, PORT: String(port), SDK_APP_ID, TOKEN, TIMHOOK_LOG_LEVEL: 'warn', ...t.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()))
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()))
  const deadline = Date.now() + 20_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${t.name} exited at start: ${output.slice(-2000)}`)
    if (Date.now() > deadline) throw new Error(`${t.name} did not listen on ${port} within 20 s: ${output.slice(-2000)}`)
    try {
      await fetch(`http://127.0.0.1:${port}/healthz`)
      break
    } catch {
      await sleep(100)
    }
  }
  return {
    child,
    port,
    stop: async () => {
      if (child.exitCode !== null) return
      child.kill('SIGTERM')
      await Promise.race([new Promise((r) => child.once('exit', r)), sleep(10_000)])
      if (child.exitCode === null) child.kill('SIGKILL')
    },
  }
}

function rssMiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) / 1024 : 0
  } catch {
    return 0
  }
}

/** CPU time (user + system) the process has used, in µs; clock ticks are 10 ms on Linux. */
function cpuMicros(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
    return (Number(fields[11]) + Number(fields[12])) * 10_000
  } catch {
    return NaN
  }
}

interface WrkResult {
  requests: number
  duration_us: number
  non2xx: number
  socket_errors: number
  timeouts: number
  p50_us: number
  p90_us: number
  p99_us: number
  max_us: number
}

function queries(): Record<string, string> {
  const t = Math.floor(Date.now() / 1000)
  const q = (command: string) =>
    `SdkAppid=${SDK_APP_ID}&CallbackCommand=${command}&contenttype=json&ClientIP=10.0.0.1&OptPlatform=RESTAPI&Sign=${sign(TOKEN, t)}&RequestTime=${t}`
  return {
    Q_BEFORE: q('Group.CallbackBeforeSendMsg'),
    Q_RECALL: q('Group.CallbackAfterRecallMsg'),
    Q_WITHDRAW: q('C2C.CallbackAfterMsgWithDraw'),
  }
}

async function runWrk(
  port: number,
  seconds: number,
  connections: number,
  pid: number,
  env: Record<string, string> = {},
): Promise<WrkResult & { peakRssMiB: number; rssSamples: number[]; cpuUsPerRequest: number }> {
  const samples: number[] = []
  const cpuBefore = cpuMicros(pid)
  const sampler = setInterval(() => samples.push(rssMiB(pid)), 250)
  const threads = Math.min(connections, 2)
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(
      'taskset',
      [
        '-c',
        '1',
        'wrk',
        '-t',
        String(threads),
        '-c',
        String(connections),
        '-d',
        `${seconds}s`,
        '--timeout',
        '5s',
        '-s',
        'bench/lib/mix.lua',
        `http://127.0.0.1:${port}/`,
      ],
      {
        env: { ...process.env, ...queries(), ...env },
      },
    )
    let text = ''
    child.stdout.on('data', (d: Buffer) => (text += d.toString()))
    child.stderr.on('data', (d: Buffer) => (text += d.toString()))
    child.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`wrk exited ${code}: ${text}`))))
  })
  clearInterval(sampler)
  const cpu = cpuMicros(pid) - cpuBefore
  const line = /WRKJSON (\{.*\})/.exec(out)
  if (!line) throw new Error(`wrk printed no result: ${out}`)
  const result = JSON.parse(line[1]!) as WrkResult
  return { ...result, peakRssMiB: Math.max(0, ...samples), rssSamples: samples, cpuUsPerRequest: cpu / Math.max(1, result.requests) }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN
const rps = (r: WrkResult) => r.requests / (r.duration_us / 1e6)

// ── main ──────────────────────────────────────────────────────────────────────────────────
async function main() {
  const started = Date.now()
  ensureWrk()
  if (!existsSync('dist/index.js')) execFileSync('npm', ['run', 'build'], { stdio: 'inherit' })
  if (args['policy-only']) {
    console.log(
      `timhook bench --policy-only — node ${process.version}, ${cpus().length} × ${cpus()[0]?.model}; 100 connections, wrk on CPU 1, server on CPU 0`,
    )
    await beforeSendOnly(TARGETS.filter((t) => t.name === 'server-sqlite' || t.name === 'server-policy'))
    return
  }
  const wanted = args.cases?.split(',') ?? TARGETS.map((t) => t.name)
  const cases = TARGETS.filter((t) => wanted.includes(t.name))
  const skipped: string[] = []
  const runnable = cases.filter((t) => {
    const ok = t.available()
    if (ok !== true) skipped.push(`${t.name}: ${ok}`)
    return ok === true
  })
  console.log(
    `timhook bench — node ${process.version}, ${cpus().length} × ${cpus()[0]?.model}; ${ROUNDS} rounds × ${DURATION} s, 100 connections, wrk on CPU 1, target on CPU 0`,
  )
  for (const s of skipped) console.log(`  skipped ${s}`)

  const results = new Map<string, Array<WrkResult & { peakRssMiB: number; cpuUsPerRequest: number }>>(runnable.map((t) => [t.name, []]))
  for (let round = 0; round < ROUNDS; round++) {
    for (const t of round % 2 === 0 ? runnable : [...runnable].reverse()) {
      const target = await startTarget(t)
      try {
        await runWrk(target.port, 1, 100, target.child.pid!) // warm-up: JIT, connection pools
        const r = await runWrk(target.port, DURATION, 100, target.child.pid!)
        results.get(t.name)!.push(r)
        process.stdout.write(
          `  round ${round + 1} ${t.name.padEnd(14)} ${Math.round(rps(r)).toLocaleString('en').padStart(8)} req/s  p99 ${(r.p99_us / 1000).toFixed(2)} ms  CPU ${r.cpuUsPerRequest.toFixed(1)} µs/req  non-2xx ${r.non2xx}  errors ${r.socket_errors}\n`,
        )
      } finally {
        await target.stop()
      }
    }
  }

  const summary = runnable.map((t) => {
    const rs = results.get(t.name)!
    return {
      name: t.name,
      rps: median(rs.map(rps)),
      p50ms: median(rs.map((r) => r.p50_us)) / 1000,
      p99ms: median(rs.map((r) => r.p99_us)) / 1000,
      peakRssMiB: Math.max(...rs.map((r) => r.peakRssMiB)),
      cpuUsPerRequest: median(rs.map((r) => r.cpuUsPerRequest)),
      non2xx: rs.reduce((a, r) => a + r.non2xx, 0),
      errors: rs.reduce((a, r) => a + r.socket_errors + r.timeouts, 0),
    }
  })
  const limit = summary.find((s) => s.name === 'limit')
  const library = summary.find((s) => s.name === 'library')
  // Two views: throughput (what the case sustains on this machine now) and CPU per request of the
  // target process (what each callback costs; much less sensitive to other load on a shared machine).
  console.log('\ncase            req/s      p50 ms   p99 ms   peak RSS MiB   × limit   CPU µs/req   limit CPU ÷ case CPU   non-2xx  errors')
  for (const s of summary) {
    const cpuRatio = limit ? (limit.cpuUsPerRequest / s.cpuUsPerRequest).toFixed(2) : 'n/a'
    console.log(
      `${s.name.padEnd(14)} ${Math.round(s.rps).toLocaleString('en').padStart(8)}   ${s.p50ms.toFixed(2).padStart(6)}   ${s.p99ms.toFixed(2).padStart(6)}   ${s.peakRssMiB.toFixed(0).padStart(12)}   ${limit ? (s.rps / limit.rps).toFixed(2).padStart(7) : '    n/a'}   ${s.cpuUsPerRequest.toFixed(1).padStart(10)}   ${cpuRatio.padStart(20)}   ${String(s.non2xx).padStart(7)}  ${String(s.errors).padStart(6)}`,
    )
  }
  const ratios: Record<string, number> = {}
  const ratio = (a: string, b: string, label: string) => {
    const x = summary.find((s) => s.name === a)
    const y = summary.find((s) => s.name === b)
    if (x && y) ratios[label] = x.rps / y.rps
  }
  ratio('library', 'limit', 'library / limit (target ≥ 0.90)')
  ratio('limit-parse', 'limit', 'limit-parse / limit (JSON.parse alone)')
  ratio('library', 'limit-parse', 'library / limit-parse')
  ratio('server-sqlite', 'limit', 'server-sqlite / limit (target ≥ 0.75)')
  ratio('naive', 'library', 'naive / library (target ≤ 0.50)')
  ratio('server-policy', 'server-sqlite', 'server-policy / server-sqlite (the mix)')
  ratio('server-pg', 'server-sqlite', 'server-pg / server-sqlite')
  console.log('')
  for (const [k, v] of Object.entries(ratios)) console.log(`  ${k.padEnd(48)} ${v.toFixed(2)}`)

  const extras: Record<string, unknown> = {}
  if (!args['skip-extras'] && library !== undefined) {
    extras.concurrency = await concurrencySweep(runnable.filter((t) => ['limit', 'library', 'server-sqlite'].includes(t.name)))
    extras.beforeSendAt80 = await beforeSendAtRate(
      TARGETS.find((t) => t.name === 'library')!,
      TARGETS.find((t) => t.name === 'limit')!,
    )
    const servers = runnable.filter((t) => t.name === 'server-sqlite' || t.name === 'server-policy')
    if (servers.length === 2) extras.policyBeforeSendOnly = await beforeSendOnly(servers)
    extras.soak = await soak(
      runnable.filter((t) => ['library', 'server-sqlite'].includes(t.name)),
      QUICK ? 10 : 60,
    )
  }
  if (!args['skip-extras']) {
    console.log('\nSQLite commit throughput against batch size (bench/store.ts)')
    const out = execFileSync(
      node,
      ['--import', 'tsx', 'bench/store.ts', '--records', QUICK ? '1000' : '4000', '--rounds', QUICK ? '1' : '3'],
      { encoding: 'utf8' },
    )
    console.log(out.trimEnd())
    extras.sqliteBatches = out
  }

  const report = {
    date: new Date().toISOString(),
    node: process.version,
    cpu: cpus()[0]?.model,
    cores: cpus().length,
    rounds: ROUNDS,
    durationSeconds: DURATION,
    summary,
    ratios,
    extras,
    skipped,
  }
  mkdirSync('bench/results', { recursive: true })
  writeFileSync('bench/results/latest.json', JSON.stringify(report, null, 2) + '\n')
  writeFileSync('docs/bench-chart.svg', renderChart(summary))
  console.log(`\nwrote bench/results/latest.json and docs/bench-chart.svg in ${((Date.now() - started) / 1000).toFixed(0)} s`)
  rmSync(work, { recursive: true, force: true })
}

async function concurrencySweep(targets: Target[]) {
  console.log('\nthroughput and p99 by concurrent connections (5 s each)')
  const out: Record<string, Array<{ connections: number; rps: number; p99ms: number; errors: number }>> = {}
  for (const t of targets) {
    out[t.name] = []
    const target = await startTarget(t)
    try {
      await runWrk(target.port, 1, 10, target.child.pid!)
      for (const c of [1, 10, 100, 1000]) {
        const r = await runWrk(target.port, QUICK ? 2 : 5, c, target.child.pid!)
        out[t.name]!.push({ connections: c, rps: rps(r), p99ms: r.p99_us / 1000, errors: r.socket_errors + r.timeouts })
        console.log(
          `  ${t.name.padEnd(14)} c=${String(c).padEnd(5)} ${Math.round(rps(r)).toLocaleString('en').padStart(8)} req/s  p99 ${(r.p99_us / 1000).toFixed(2)} ms  errors ${r.socket_errors + r.timeouts}`,
        )
      }
    } finally {
      await target.stop()
    }
  }
  return out
}

/**
 * Before-send callbacks only, paced at 80 % of the library's before-send maximum: wrk's delay()
 * after every answer on each connection (rate ≈ connections ÷ (delay + latency)), calibrated
 * once. The limit runs the same paced load right after, so the p99 of the machine itself (a
 * shared VM's scheduling shows in a bare node:http server's tail too) is printed beside it.
 */
async function beforeSendAtRate(library: Target, limit: Target) {
  const DELAY_MS = 2
  const seconds = QUICK ? 3 : 10
  const paced = async (t: Target, connections: number) => {
    const target = await startTarget(t)
    try {
      await runWrk(target.port, 1, 100, target.child.pid!, { ONLY: 'before' })
      return await runWrk(target.port, seconds, connections, target.child.pid!, { ONLY: 'before', DELAY_MS: String(DELAY_MS) })
    } finally {
      await target.stop()
    }
  }
  const target = await startTarget(library)
  let max: number
  let connections: number
  try {
    await runWrk(target.port, 1, 100, target.child.pid!, { ONLY: 'before' })
    max = rps(await runWrk(target.port, QUICK ? 2 : 5, 100, target.child.pid!, { ONLY: 'before' }))
    const wanted = max * 0.8
    connections = Math.max(1, Math.round((wanted * (DELAY_MS + 1)) / 1000))
    const trial = rps(await runWrk(target.port, 2, connections, target.child.pid!, { ONLY: 'before', DELAY_MS: String(DELAY_MS) }))
    connections = Math.max(1, Math.min(1000, Math.round((connections * wanted) / Math.max(1, trial))))
  } finally {
    await target.stop()
  }
  const lib = await paced(library, connections)
  const base = await paced(limit, connections)
  const view = (r: WrkResult) => ({
    rate: rps(r),
    p50ms: r.p50_us / 1000,
    p99ms: r.p99_us / 1000,
    maxms: r.max_us / 1000,
    non2xx: r.non2xx,
    errors: r.socket_errors + r.timeouts,
  })
  const result = { libraryMaxBeforeSend: max, targetRate: max * 0.8, connections, delayMs: DELAY_MS, library: view(lib), limit: view(base) }
  console.log(
    `\nbefore-send only, paced at 80 % of the library's before-send maximum (${Math.round(max).toLocaleString('en')} req/s → ${Math.round(max * 0.8).toLocaleString('en')}; ${connections} connections, ${DELAY_MS} ms pause):` +
      `\n  library  ${Math.round(result.library.rate).toLocaleString('en')} req/s  p50 ${result.library.p50ms.toFixed(2)} ms  p99 ${result.library.p99ms.toFixed(2)} ms  (target ≤ 5 ms)` +
      `\n  limit    ${Math.round(result.limit.rate).toLocaleString('en')} req/s  p50 ${result.limit.p50ms.toFixed(2)} ms  p99 ${result.limit.p99ms.toFixed(2)} ms  (the same load on the bare server)`,
  )
  return result
}

/**
 * The policy's cost: before-send throughput of `serve` with the example policy against without,
 * alternating rounds, under two kinds of traffic. "typical": 100,003 senders, so no one floods:
 * every group message passes the rules and is stamped (a rewritten answer, a decision linked to its
 * message). "flood": 97 senders at thousands of messages a second, so the flood rule refuses
 * nearly every message (a constant answer, no link).
 */
async function beforeSendOnly(servers: Target[]) {
  const seconds = QUICK ? 2 : 5
  const out: Record<string, { serverRps: number; policyRps: number; ratio: number; rounds: Record<string, number[]> }> = {}
  for (const [traffic, senders] of [
    ['typical', '100003'],
    ['flood', '97'],
  ] as const) {
    const by = new Map<string, number[]>(servers.map((t) => [t.name, []]))
    for (let round = 0; round < (QUICK ? 1 : 3); round++) {
      for (const t of round % 2 === 0 ? servers : [...servers].reverse()) {
        const target = await startTarget(t)
        try {
          await runWrk(target.port, 1, 100, target.child.pid!, { ONLY: 'before', SENDERS: senders })
          by.get(t.name)!.push(rps(await runWrk(target.port, seconds, 100, target.child.pid!, { ONLY: 'before', SENDERS: senders })))
        } finally {
          await target.stop()
        }
      }
    }
    const plain = median(by.get('server-sqlite')!)
    const policy = median(by.get('server-policy')!)
    console.log(
      `\nbefore-send only, ${traffic} traffic (${senders} senders; ${seconds} s rounds, median): server ${Math.round(plain).toLocaleString('en')} req/s, with the example policy ${Math.round(policy).toLocaleString('en')} req/s → ${(policy / plain).toFixed(2)}× (target ≥ 0.90)`,
    )
    out[traffic] = { serverRps: plain, policyRps: policy, ratio: policy / plain, rounds: Object.fromEntries(by) }
  }
  return out
}

/** RSS every 5 s over one long run: flat means no leak. */
async function soak(targets: Target[], seconds: number) {
  const out: Record<string, { rssMiB: number[]; rps: number; growthMiB: number }> = {}
  for (const t of targets) {
    const target = await startTarget(t)
    try {
      await runWrk(target.port, 2, 100, target.child.pid!)
      const r = await runWrk(target.port, seconds, 100, target.child.pid!)
      const every = r.rssSamples.filter((_, i) => i % 20 === 0).map((x) => Math.round(x))
      const firstHalf = median(r.rssSamples.slice(0, r.rssSamples.length / 2))
      const secondHalf = median(r.rssSamples.slice(r.rssSamples.length / 2))
      out[t.name] = { rssMiB: every, rps: rps(r), growthMiB: secondHalf - firstHalf }
      console.log(
        `soak ${t.name.padEnd(14)} ${seconds} s at ${Math.round(rps(r)).toLocaleString('en')} req/s — RSS every 5 s: ${every.join(', ')} MiB (median 2nd half − 1st half: ${(secondHalf - firstHalf).toFixed(1)} MiB)`,
      )
    } finally {
      await target.stop()
    }
  }
  return out
}

function ensureWrk() {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' })
  } catch (err) {
    // wrk --version exits 1 after printing its version; only a missing binary throws ENOENT.
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return
    if (process.getuid?.() === 0) {
      console.log('installing wrk (apt-get install wrk)')
      execFileSync('sh', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk'], { stdio: 'inherit' })
      return
    }
    throw new Error('wrk is required: apt-get install wrk (Debian/Ubuntu) or brew install wrk')
  }
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
