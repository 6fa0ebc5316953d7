/**
 * `npm run bench`: HTTP benchmarks of callback receivers on loopback (docs/benchmarks.md).
 *
 * Three pieces, all by default, each alone by its option:
 *   --paired <pairs>   two targets at once on CPU 0, each loaded by its own wrk on CPU 1: the ratio
 *                      of their req/s is the inverse ratio of their CPU per request, and the host's
 *                      noise hits both alike (bench/lib/paired.ts). `default`, `all`, or pair ids.
 *   --p99              before-send p99 at 80 % of the target's maximum rate beside the bare limit's under
 *                      the same paced load (library, serve on SQLite), alternating rounds.
 *                      --p99-versus <target> adds an A/B case in the same rounds at the same rate
 *                      (e.g. --p99-targets server-sqlite --p99-versus server-sqlite-young16).
 *   --soak             serve on SQLite at 80 % of its maximum rate for --soak-minutes (10): memory by part
 *                      (RSS, each thread's V8 heap, the live heap, the native rest), each part's slope.
 *                      --soak-target server-sqlite-young16 soaks serve with a capped young generation.
 * Older views, when asked: --sequential [--cases a,b] (each case alone, one after the other, with
 * p50/p99 at saturation and a chart), --sweep (throughput and p99 by connections).
 *
 *   npx tsx bench/run.ts [--quick] [--rounds 5] [--duration 10] [--paired sqlite,pg] [--p99] [--soak] [--soak-minutes 10]
 *   npx tsx bench/run.ts --p99 --p99-targets server-sqlite --p99-versus server-sqlite-young16 --rounds 6
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { renderChart } from './lib/chart.js'
import { beforeSendP99, soak } from './lib/paced.js'
import { DEFAULT_PAIRS, PAIRS, pair, runPair } from './lib/paired.js'
import { load, machine } from './lib/procs.js'
import { markdown, type Report } from './lib/report.js'
import { median } from './lib/stats.js'
import { pgUrl, removeWork, startTarget, stopAll, TARGETS, type Target } from './lib/targets.js'
import { ensureWrk, runWrk, type Measured } from './lib/wrk.js'

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    duration: { type: 'string' },
    connections: { type: 'string' },
    paired: { type: 'string' },
    p99: { type: 'boolean', default: false },
    'p99-targets': { type: 'string' },
    'p99-versus': { type: 'string' },
    soak: { type: 'boolean', default: false },
    'soak-minutes': { type: 'string' },
    'soak-target': { type: 'string' },
    sequential: { type: 'boolean', default: false },
    cases: { type: 'string' },
    sweep: { type: 'boolean', default: false },
    'policy-only': { type: 'boolean', default: false },
    'skip-extras': { type: 'boolean', default: false }, // accepted for old command lines; the extras are their own options now
    help: { type: 'boolean', default: false },
  },
})

const QUICK = args.quick
const ROUNDS = Number(args.rounds ?? (QUICK ? 1 : 5))
const DURATION = Number(args.duration ?? (QUICK ? 2 : 10))
const WARM = QUICK ? 1 : 2
const CONNECTIONS = Number(args.connections ?? 100)
const CALIBRATE = QUICK ? 2 : 5
const SOAK_MINUTES = Number(args['soak-minutes'] ?? (QUICK ? 0.25 : 10))
const SOAK_TARGET = args['soak-target'] ?? 'server-sqlite'
const P99_TARGETS = (args['p99-targets'] ?? 'library,server-sqlite').split(',')
const P99_VERSUS = args['p99-versus']
for (const [k, v] of Object.entries({ rounds: ROUNDS, duration: DURATION, connections: CONNECTIONS, 'soak-minutes': SOAK_MINUTES })) {
  if (!(v > 0)) throw new Error(`--${k} must be a positive number`)
}

if (args.help) {
  console.log(`npx tsx bench/run.ts [options]   (npm run bench: build, then all three pieces)
  --paired <ids>        paired ratios: default (${DEFAULT_PAIRS.join(',')}), all, or ids of: ${PAIRS.map((p) => p.id).join(', ')}
  --p99                 before-send p99 at 80 % of the maximum rate, beside the limit (--p99-targets ${P99_TARGETS.join(',')})
  --p99-versus <target> an A/B case run in the same p99 rounds at the same rate (e.g. server-sqlite-young16)
  --soak                serve (SQLite) at 80 % of its maximum rate, memory by part and its slope (--soak-minutes ${SOAK_MINUTES}; --soak-target ${SOAK_TARGET})
  --rounds N --duration S --connections C     (${ROUNDS}, ${DURATION} s, ${CONNECTIONS})
  --quick               1 round × 2 s, a 15 s soak: a smoke test, under 2 minutes
  --sequential [--cases a,b]   each case alone in turn (older view; bench/results/sequential-chart.svg)
  --sweep               throughput and p99 by connections (1, 10, 100, 1000)
  --policy-only         = --paired policy,policy-flood`)
  process.exit(0)
}

const sequential = args.sequential || args.cases !== undefined
let pairIds = args['policy-only'] ? ['policy', 'policy-flood'] : args.paired === undefined ? [] : args.paired.split(',')
const nothingChosen = pairIds.length === 0 && !args.p99 && !args.soak && !sequential && !args.sweep
if (nothingChosen) pairIds = ['default']
pairIds = pairIds.flatMap((id) => (id === 'default' ? DEFAULT_PAIRS : id === 'all' ? PAIRS.map((p) => p.id) : [id]))
const pairs = pairIds.map(pair)
const runP99 = args.p99 || nothingChosen
const runSoak = args.soak || nothingChosen

const log = (s: string) => console.log(s)

function skipReason(names: string[]): string | null {
  for (const n of names) {
    const t = TARGETS.find((x) => x.name === n)
    if (t === undefined) return `no target ${n}`
    const ok = t.available()
    if (ok !== true) return `${n}: ${ok}`
  }
  return null
}

// Rough durations, for the plan printed up front: a target's start and stop, wrk's own runs.
const START = 2.5
function plan(): Array<{ piece: string; seconds: number }> {
  const out: Array<{ piece: string; seconds: number }> = []
  for (const p of pairs) out.push({ piece: `paired ${p.id}`, seconds: ROUNDS * (2 * START + WARM + DURATION + 1) })
  // Calibration: usually two turns of an unpaced maximum and three 2 s paced trials (at most seven; bench/lib/paced.ts).
  const calibration = START + 1 + 2 * (CALIBRATE + 3 * 2.3)
  if (runP99)
    for (const t of P99_TARGETS) {
      const cases = P99_VERSUS === undefined ? 2 : 3
      out.push({ piece: `p99 ${t}`, seconds: cases * calibration - (cases - 1) * CALIBRATE + ROUNDS * cases * (START + 2 + DURATION) })
    }
  if (runSoak) out.push({ piece: `soak ${SOAK_MINUTES} min`, seconds: calibration + START + SOAK_MINUTES * 60 })
  return out
}

async function main() {
  const started = Date.now()
  ensureWrk()
  if (!existsSync('dist/cli/main.js')) execFileSync('npm', ['run', 'build'], { stdio: 'inherit' })
  const mach = await machine(pgUrl)
  const loadStart = load()
  log(
    `timhook bench — ${mach.cores} × ${mach.cpu}; Node ${mach.node}, wrk ${mach.wrk}, SQLite ${mach.sqlite}, PostgreSQL ${mach.postgres ?? 'not configured'}; commit ${mach.commit}${mach.dirty ? ' (uncommitted changes)' : ''}; load average ${loadStart.join(', ')}`,
  )
  if (sequential || args.sweep) {
    await olderViews()
    if (pairs.length === 0 && !runP99 && !runSoak) return
  }
  const steps = plan()
  const total = steps.reduce((a, s) => a + s.seconds, 0)
  log(`plan (about ${(total / 60).toFixed(1)} min): ${steps.map((s) => `${s.piece} ~${Math.round(s.seconds)} s`).join(', ')}`)
  log(
    `targets on CPU 0 (taskset -c 0, every thread), wrk on CPU 1; ${ROUNDS} rounds × ${DURATION} s, ${CONNECTIONS} connections per target`,
  )

  const report: Report = {
    date: new Date().toISOString(),
    machine: mach,
    load: { start: loadStart, end: [] },
    minutes: 0,
    paired: [],
    p99: [],
    soak: null,
    notMeasured: [],
    quick: QUICK,
  }
  const skipped = report.notMeasured
  // One piece failing (a target that does not start, a database that went away) is written down
  // and the run goes on: the quiet window is not repeated for one missing case.
  const piece = async (name: string, needs: string[], run: () => Promise<void>) => {
    const why = skipReason(needs)
    if (why !== null) {
      skipped.push(`${name}: ${why}`)
      log(`\n${name}: skipped (${why})`)
      return
    }
    try {
      await run()
    } catch (err) {
      skipped.push(`${name}: failed: ${String(err).slice(0, 500)}`)
      log(`\n${name}: FAILED: ${String(err)}`)
    }
  }
  try {
    for (const p of pairs) {
      await piece(`paired ${p.id}`, [p.a, p.b], async () => {
        report.paired.push(await runPair(p, { rounds: ROUNDS, seconds: DURATION, warmSeconds: WARM, connections: CONNECTIONS, log }))
      })
    }
    if (runP99) {
      for (const t of P99_TARGETS) {
        await piece(`p99 ${t}`, [t, 'limit', ...(P99_VERSUS === undefined ? [] : [P99_VERSUS])], async () => {
          report.p99.push(
            await beforeSendP99(t, {
              rounds: ROUNDS,
              seconds: DURATION,
              calibrateSeconds: CALIBRATE,
              withinMs: 2,
              log,
              versus: P99_VERSUS,
            }),
          )
        })
      }
    }
    if (runSoak) {
      await piece('soak', [SOAK_TARGET], async () => {
        report.soak = await soak(SOAK_TARGET, { minutes: SOAK_MINUTES, calibrateSeconds: CALIBRATE, log })
      })
    }
  } finally {
    report.load.end = load()
    report.minutes = (Date.now() - started) / 60_000
    const md = markdown(report)
    mkdirSync('bench/results', { recursive: true })
    const stamp = report.date.replace(/[:.]/g, '-').slice(0, 19)
    const json = JSON.stringify({ ...report, argv: process.argv.slice(2) }, null, 2) + '\n'
    writeFileSync(`bench/results/run-${stamp}.json`, json)
    writeFileSync('bench/results/latest.json', json)
    writeFileSync(`bench/results/run-${stamp}.md`, md)
    writeFileSync('bench/results/latest.md', md)
    removeWork()
    log(`\n${md}`)
    for (const s of skipped) log(`skipped ${s}`)
    log(`wrote bench/results/run-${stamp}.json and .md (also latest.json, latest.md) in ${((Date.now() - started) / 1000).toFixed(0)} s`)
  }
}

// ── the older views: each case alone, one after the other; throughput by connections ──────────
async function olderViews() {
  const wanted = args.cases?.split(',') ?? [
    'limit',
    'limit-parse',
    'naive',
    'naive-sqlite',
    'library',
    'server-sqlite',
    'server-pg',
    'server-policy',
  ]
  const runnable: Target[] = []
  for (const name of wanted) {
    const why = skipReason([name])
    if (why !== null) log(`  skipped ${why}`)
    else runnable.push(TARGETS.find((t) => t.name === name)!)
  }
  if (sequential) {
    log(`\nsequential: each case alone on CPU 0, ${ROUNDS} rounds × ${DURATION} s, alternating order; the median round`)
    const results = new Map<string, Measured[]>(runnable.map((t) => [t.name, []]))
    for (let round = 0; round < ROUNDS; round++) {
      for (const t of round % 2 === 0 ? runnable : [...runnable].reverse()) {
        const r = await startTarget(t)
        try {
          await runWrk({ port: r.port, seconds: 1, connections: CONNECTIONS, pid: r.pid })
          const m = await runWrk({ port: r.port, seconds: DURATION, connections: CONNECTIONS, pid: r.pid })
          results.get(t.name)!.push(m)
          log(
            `  round ${round + 1} ${t.name.padEnd(20)} ${Math.round(m.rps).toLocaleString('en').padStart(8)} req/s  p99 ${(m.p99_us / 1000).toFixed(2)} ms  CPU ${m.cpuUsPerRequest.toFixed(1)} µs/req  non-2xx ${m.non2xx}  errors ${m.socket_errors}`,
          )
        } finally {
          await r.stop()
        }
      }
    }
    const summary = runnable.map((t) => {
      const rs = results.get(t.name)!
      return {
        name: t.name,
        rps: median(rs.map((r) => r.rps)),
        p50ms: median(rs.map((r) => r.p50_us)) / 1000,
        p99ms: median(rs.map((r) => r.p99_us)) / 1000,
        peakRssMiB: Math.max(...rs.map((r) => r.peakRssMiB)),
        cpuUsPerRequest: median(rs.map((r) => r.cpuUsPerRequest)),
        rounds: rs.map((r) => ({ rps: r.rps, p99ms: r.p99_us / 1000, cpuUsPerRequest: r.cpuUsPerRequest })),
      }
    })
    const limit = summary.find((s) => s.name === 'limit')
    log(
      '\n| case | req/s | p50 ms | p99 ms | peak RSS MiB | × limit | CPU µs/req | limit CPU ÷ case CPU |\n|---|---|---|---|---|---|---|---|',
    )
    for (const s of summary) {
      log(
        `| ${s.name} | ${Math.round(s.rps).toLocaleString('en')} | ${s.p50ms.toFixed(2)} | ${s.p99ms.toFixed(2)} | ${s.peakRssMiB.toFixed(0)} | ${limit ? (s.rps / limit.rps).toFixed(2) : 'n/a'} | ${s.cpuUsPerRequest.toFixed(1)} | ${limit ? (limit.cpuUsPerRequest / s.cpuUsPerRequest).toFixed(2) : 'n/a'} |`,
      )
    }
    mkdirSync('bench/results', { recursive: true })
    writeFileSync(
      'bench/results/sequential.json',
      JSON.stringify({ date: new Date().toISOString(), rounds: ROUNDS, durationSeconds: DURATION, summary }, null, 2) + '\n',
    )
    writeFileSync('bench/results/sequential-chart.svg', renderChart(summary))
    log('wrote bench/results/sequential.json and sequential-chart.svg')
  }
  if (args.sweep) {
    log('\nthroughput and p99 by concurrent connections (5 s each; 2 s with --quick)')
    for (const t of runnable.filter((x) => ['limit', 'library', 'server-sqlite'].includes(x.name))) {
      const r = await startTarget(t)
      try {
        await runWrk({ port: r.port, seconds: 1, connections: 10, pid: r.pid })
        for (const c of [1, 10, 100, 1000]) {
          const m = await runWrk({ port: r.port, seconds: QUICK ? 2 : 5, connections: c, pid: r.pid })
          log(
            `  ${t.name.padEnd(14)} c=${String(c).padEnd(5)} ${Math.round(m.rps).toLocaleString('en').padStart(8)} req/s  p99 ${(m.p99_us / 1000).toFixed(2)} ms  errors ${m.socket_errors + m.timeouts}`,
          )
        }
      } finally {
        await r.stop()
      }
    }
  }
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.log(`\n${signal}: stopping the targets`)
    void stopAll()
      .then(removeWork)
      .finally(() => process.exit(130))
  })
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
