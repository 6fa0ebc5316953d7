/** The Markdown docs/benchmarks.md takes verbatim: the machine, then every round of every piece. */
import { PARTS, type MemorySample, type Part } from './memory.js'
import { RATE_TOLERANCE, SETTLED_MIB, type Calibration, type LatencyResult, type SoakResult } from './paced.js'
import type { PairedResult } from './paired.js'
import type { Machine } from './procs.js'
import { fmt, median } from './stats.js'

export interface Report {
  date: string
  machine: Machine
  load: { start: number[]; end: number[] }
  minutes: number
  paired: PairedResult[]
  p99: LatencyResult[]
  soak: SoakResult | null
  /** Pieces skipped or failed, with why. */
  notMeasured: string[]
  /** A --quick smoke run: too short to be a measurement. */
  quick: boolean
}

const PART_NAMES: Record<Part, string> = {
  rss: '**RSS**',
  anon: 'anonymous (RssAnon)',
  file: 'file-backed (RssFile: code, libraries)',
  shmem: 'shared (RssShmem: SQLite -shm)',
  heapTotal: 'V8 heaps committed, all threads',
  live: 'live heap after the latest full GC, all threads',
  external: 'V8 external (buffers), all threads',
  native: 'native rest: anonymous − heaps − external',
  children: 'child processes (readers, sinks): RSS, all of them',
}

/** How a paced load was calibrated, in one clause. */
function pacing(c: Calibration): string {
  return (
    `maximum ${fmt.int(c.maxRps)} req/s with ${c.maxConnections} connections unpaced, using ${pct(c.maxCpuShare)} of the core → aim 80 % of that rate, ${fmt.int(c.targetRps)} req/s: ` +
    `${c.connections} connections, ${c.delayMs} ms pause after each answer, held ${fmt.int(c.held.rps)} req/s in calibration (${pct(c.held.rps / c.targetRps)} of the aim, ${pct(c.held.cpuShare)} of the core)` +
    (c.holds ? '' : `, **not within ${pct(RATE_TOLERANCE)} of the aim**: the closest of ${c.trials.length} counts tried`)
  )
}

const met = (m: boolean | null) => (m === null ? 'informative' : m ? 'met' : '**missed**')
const pct = (x: number) => `${Math.round(x * 100)} %`

export function markdown(r: Report): string {
  const m = r.machine
  const out: string[] = []
  if (r.quick) out.push('**Smoke test (`--quick`): rounds too short and too few to be a measurement; do not quote.**', '')
  out.push(
    `${r.date.slice(0, 16).replace('T', ' ')} UTC, ${m.cores} × ${m.cpu} (kernel ${m.kernel}); Node ${m.node}, wrk ${m.wrk}, SQLite ${m.sqlite} (node:sqlite)` +
      `${m.postgres !== null ? `, PostgreSQL ${m.postgres} (same machine)` : ''}; timhook at ${m.commit}${m.dirty ? ' with uncommitted changes' : ''}.` +
      ` Load average (1, 5, 15 min) ${r.load.start.join(', ')} at the start, ${r.load.end.join(', ')} at the end; ${r.minutes.toFixed(1)} minutes in all.`,
  )
  if (r.paired.length > 0) {
    const p0 = r.paired[0]!
    out.push(
      '',
      `**Paired** (${p0.rounds.length} rounds × ${p0.seconds} s, ${p0.connections} connections per target; scheduler autogroups ${m.autogroup ? 'on: each target a group of its own' : 'off: the core is shared between threads'}):`,
      '',
    )
    out.push('| pair | traffic | decided by | median | rounds, min–max | target | |', '|---|---|---|---|---|---|---|')
    for (const p of r.paired) {
      out.push(
        `| ${p.pair.a} ÷ ${p.pair.b} | ${p.pair.traffic} | ${p.pair.decide === 'rps' ? 'req/s' : p.pair.a === 'server-pg' ? "timhook's CPU µs/req" : 'CPU µs/req'} | **${fmt.f(p.median.decided, 3)}** | ${fmt.f(p.range.min, 3)}–${fmt.f(p.range.max, 3)} | ${p.pair.target !== undefined ? `≥ ${p.pair.target}` : ''} | ${met(p.met)} |`,
      )
    }
    for (const p of r.paired) {
      const a = p.pair.a
      const b = p.pair.b
      const pg = p.rounds.some((x) => x.postgresUsPerRequest !== undefined)
      out.push('', `${a} ÷ ${b}, every round:`, '')
      out.push(
        `| round | first | ${a} req/s | ${b} req/s | req/s ratio | ${a} CPU µs/req | ${b} CPU µs/req | CPU ratio | core share ${a} / ${b} | CPU 0 busy | load 1 min |${pg ? ' PostgreSQL µs/req |' : ''} non-2xx, errors |`,
        `|---|---|---|---|---|---|---|---|---|---|---|${pg ? '---|' : ''}---|`,
      )
      for (const x of p.rounds) {
        out.push(
          `| ${x.round} | ${x.first} | ${fmt.int(x.a.rps)} | ${fmt.int(x.b.rps)} | ${fmt.f(x.rpsRatio, 3)} | ${fmt.f(x.a.cpuUsPerRequest, 1)} | ${fmt.f(x.b.cpuUsPerRequest, 1)} | ${fmt.f(x.cpuRatio, 3)} | ${pct(x.a.cpuShare)} / ${pct(x.b.cpuShare)} | ${pct(x.core0Busy)} | ${fmt.f(x.load1)} |${pg ? ` ${fmt.f(x.postgresUsPerRequest ?? NaN, 1)} |` : ''} ${x.a.non2xx + x.b.non2xx}, ${x.a.errors + x.b.errors} |`,
        )
      }
    }
  }
  for (const l of r.p99) {
    const c = l.calibration
    out.push(
      '',
      `**Before-send p99, ${l.target}** at 80 % of its before-send maximum (${pacing(c)}), the limit paced at the same rate (${l.limitCalibration.connections} connections, the same pause, held ${pct(l.limitCalibration.held.rps / c.targetRps)} of the aim in calibration using ${pct(l.limitCalibration.held.cpuShare)} of the core${l.limitCalibration.holds ? '' : ', not within tolerance: the closest count'}); ${l.rounds.length} rounds × ${l.seconds} s, alternating; ${l.target} held ${pct(median(l.rounds.map((x) => x.target.rps)) / c.targetRps)} of the aim (median round), the limit ${pct(median(l.rounds.map((x) => x.limit.rps)) / c.targetRps)}:`,
      '',
      `| round | first | ${l.target} req/s | p50 ms | p99 ms | max ms | limit req/s | p50 ms | p99 ms | max ms | Δ p99 ms |`,
      '|---|---|---|---|---|---|---|---|---|---|---|',
    )
    for (const x of l.rounds) {
      out.push(
        `| ${x.round} | ${x.first} | ${fmt.int(x.target.rps)} | ${fmt.f(x.target.p50ms)} | ${fmt.f(x.target.p99ms)} | ${fmt.f(x.target.maxms, 1)} | ${fmt.int(x.limit.rps)} | ${fmt.f(x.limit.p50ms)} | ${fmt.f(x.limit.p99ms)} | ${fmt.f(x.limit.maxms, 1)} | ${fmt.f(x.p99DeltaMs)} |`,
      )
    }
    out.push(
      `| median | | | | **${fmt.f(l.medianP99Ms.target)}** | | | | **${fmt.f(l.medianP99Ms.limit)}** | | **${fmt.f(l.deltaMs)}** (target ≤ 2): ${met(l.met)} |`,
    )
    const v = l.versus
    if (v !== undefined) {
      out.push(
        '',
        `A/B in the same rounds: **${v.target}** paced at the same aim (${v.calibration.connections} connections, held ${pct(v.calibration.held.rps / c.targetRps)} of the aim in calibration):`,
        '',
        `| round | order | ${v.target} req/s | p50 ms | p99 ms | max ms | Δ p99 to the limit ms | ${v.target} − ${l.target} p99 ms | event loop waited for a core, µs/req: ${v.target} / ${l.target} / limit | records dropped: ${v.target} / ${l.target} |`,
        '|---|---|---|---|---|---|---|---|---|---|',
      )
      for (const x of l.rounds) {
        const y = x.versus!
        out.push(
          `| ${x.round} | ${x.first} first | ${fmt.int(y.rps)} | ${fmt.f(y.p50ms)} | ${fmt.f(y.p99ms)} | ${fmt.f(y.maxms, 1)} | ${fmt.f(x.versusDeltaMs!)} | ${fmt.f(y.p99ms - x.target.p99ms)} | ${fmt.f(y.loopWaitUs, 1)} / ${fmt.f(x.target.loopWaitUs, 1)} / ${fmt.f(x.limit.loopWaitUs, 1)} | ${y.dropped ?? 'n/a'} / ${x.target.dropped ?? 'n/a'} |`,
        )
      }
      out.push(
        `| median | | | | **${fmt.f(v.medianP99Ms)}** | | **${fmt.f(v.deltaMs)}** (target ≤ 2): ${met(v.met)} | **${fmt.f(v.minusTargetMs)}** | ${fmt.f(median(l.rounds.map((x) => x.versus!.loopWaitUs)), 1)} / ${fmt.f(median(l.rounds.map((x) => x.target.loopWaitUs)), 1)} / ${fmt.f(median(l.rounds.map((x) => x.limit.loopWaitUs)), 1)} | |`,
      )
    }
  }
  if (r.soak !== null) {
    const s = r.soak
    const c = s.calibration
    const every = Math.max(1, Math.round(s.samples.length / 20))
    const shown = s.samples.filter((_, i) => i % every === 0 || i === s.samples.length - 1)
    const row = (label: string, f: (x: MemorySample) => number) => `| ${label} | ${shown.map((x) => fmt.f(f(x), 0)).join(' | ')} |`
    out.push(
      '',
      `**Soak, ${s.target}**, ${s.minutes} min on the mix at 80 % of its maximum (${pacing(c)}): ` +
        `${fmt.int(s.rps)} req/s held (**${pct(s.rps / c.targetRps)} of the aim**, ${pct(s.cpuShare)} of the core), p50 ${fmt.f(s.p50ms)} ms, p99 ${fmt.f(s.p99ms)} ms, ${fmt.f(s.cpuUsPerRequest, 1)} CPU µs/req, non-2xx ${s.non2xx}, errors ${s.errors}. ` +
        `Memory sampled every ${s.sampleSeconds} s: **RSS start ${fmt.f(s.startMiB, 1)} MiB, end ${fmt.f(s.endMiB, 1)} MiB, slope ${fmt.f(s.slopeMiBPerMin, 2)} MiB/min** (least squares over the last ${fmt.f(s.fitMinutes, 1)} min); ` +
        `RSS within ±${SETTLED_MIB} MiB of its end from ${fmt.int(s.settledS)} s on.` +
        (s.files === undefined
          ? ''
          : ` SQLite files at the end: database ${fmt.f(s.files.db, 0)} MiB, WAL ${fmt.f(s.files.wal, 1)} MiB, shared memory ${fmt.f(s.files.shm, 2)} MiB.`) +
        ` Load average ${s.load.start.join(', ')} → ${s.load.end.join(', ')}.`,
      '',
      `| part (MiB) | start | at ${fmt.int(s.minutes * 60 - s.fitMinutes * 60)} s | end | highest | slope MiB/min |`,
      '|---|---|---|---|---|---|',
      ...PARTS.map((p) => {
        const x = s.parts[p]
        return `| ${PART_NAMES[p]} | ${fmt.f(x.start, 1)} | ${fmt.f(x.fitStart, 1)} | ${fmt.f(x.end, 1)} | ${fmt.f(x.max, 1)} | ${fmt.f(x.slopeMiBPerMin, 2)} |`
      }),
      '',
      `| s | ${shown.map((x) => fmt.int(x.s)).join(' | ')} |`,
      `|---|${shown.map(() => '---').join('|')}|`,
      row('RSS', (x) => x.rss),
      row('anonymous', (x) => x.anon),
      row('V8 heaps, committed', (x) => x.heapTotal),
      row('main thread heap', (x) => x.heaps.main ?? NaN),
      row('live heap', (x) => x.live),
      row('native rest', (x) => x.native),
      row('child processes', (x) => x.children),
    )
  }
  if (r.notMeasured.length > 0) out.push('', 'Not measured in this run:', '', ...r.notMeasured.map((x) => `- ${x.replace(/\s+/g, ' ')}`))
  return out.join('\n') + '\n'
}
