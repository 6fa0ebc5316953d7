/**
 * The paired method: two targets at the same time, both pinned to CPU 0, each loaded by its own
 * wrk pinned to CPU 1 (the same script, the same connections). While both are CPU-bound they
 * share the core evenly, so the ratio of their req/s is the inverse ratio of their CPU per
 * request, and whatever else the host does slows both alike. Every round starts fresh processes
 * (fresh databases); which target starts first alternates.
 */
import { coreTicks, load, postgresCpuMicros } from './procs.js'
import { median } from './stats.js'
import { startTarget, target, type Running } from './targets.js'
import { runWrk, type Measured } from './wrk.js'

export interface Pair {
  id: string
  /** The numerator: the case under test. */
  a: string
  /** The denominator: the reference. */
  b: string
  /** a ÷ b must be at least this; undefined: informative. */
  target?: number
  /** mix.lua's knobs for both loads. */
  env?: Record<string, string>
  traffic: string
  /**
   * What decides. `cpu`: the inverse ratio of the targets' own CPU µs per request (all threads),
   * both measured in the same seconds on the same core. The ratio of req/s equals it only while
   * both get the same share of the core, and the scheduler shares a core between threads, not
   * processes: a target whose worker thread is busy gets more than half (the core shares are
   * reported per round). `rps`: the ratio of req/s, where throughput is the claim (a baseline
   * that waits on fsync does not use its share).
   */
  decide: 'rps' | 'cpu'
}

const MIX = 'the mix (before-send, group recall, C2C withdraw in turn)'
const BEFORE_TYPICAL = { ONLY: 'before', SENDERS: '100003' }

export const PAIRS: Pair[] = [
  { id: 'sqlite', a: 'server-sqlite', b: 'limit', target: 0.5, traffic: MIX, decide: 'cpu' },
  { id: 'pg', a: 'server-pg', b: 'limit', target: 0.45, traffic: MIX, decide: 'cpu' },
  { id: 'library', a: 'library', b: 'limit-parse', target: 0.9, traffic: MIX, decide: 'cpu' },
  {
    id: 'policy',
    a: 'server-policy',
    b: 'server-sqlite',
    target: 0.85,
    env: BEFORE_TYPICAL,
    traffic: 'before-sends only, typical (100,003 senders: every message passes and is stamped)',
    decide: 'cpu',
  },
  {
    id: 'empty-policy',
    a: 'server-empty-policy',
    b: 'server-sqlite',
    target: 0.97,
    env: BEFORE_TYPICAL,
    traffic: 'before-sends only, typical (100,003 senders)',
    decide: 'cpu',
  },
  { id: 'naive-sqlite', a: 'server-sqlite', b: 'naive-sqlite', target: 3, traffic: MIX, decide: 'rps' },
  // The ceiling of the two `serve` pairs: serve runs this receiver and records on top of it, so
  // server ÷ limit stays below library ÷ limit whatever the store costs. Informative; run by default.
  { id: 'library-limit', a: 'library', b: 'limit', traffic: MIX, decide: 'cpu' },
  // Informative pairs, run when named.
  { id: 'limit-parse', a: 'limit-parse', b: 'limit', traffic: MIX, decide: 'cpu' },
  {
    id: 'policy-flood',
    a: 'server-policy',
    b: 'server-sqlite',
    env: { ONLY: 'before', SENDERS: '97' },
    traffic: 'before-sends only, flood (97 senders: the flood rule refuses nearly all)',
    decide: 'cpu',
  },
  // The example's cost in parts: its stamp (a rewritten answer for every group message), and the rest.
  {
    id: 'policy-stamp',
    a: 'server-policy',
    b: 'server-policy-nostamp',
    env: BEFORE_TYPICAL,
    traffic: 'before-sends only, typical (100,003 senders): the example ÷ the example less its stamp rule',
    decide: 'cpu',
  },
  {
    id: 'policy-nostamp',
    a: 'server-policy-nostamp',
    b: 'server-sqlite',
    env: BEFORE_TYPICAL,
    traffic: 'before-sends only, typical (100,003 senders): the example less its stamp rule',
    decide: 'cpu',
  },
  // This build against another (`TIMHOOK_BENCH_VERSUS=DIR`), on the policy pair's load: a change on
  // the policy's path, decided by the paired method rather than by alternating rounds.
  {
    id: 'policy-versus',
    a: 'server-policy',
    b: 'server-policy-versus',
    env: BEFORE_TYPICAL,
    traffic: 'before-sends only, typical (100,003 senders): the example policy, this build ÷ the build in TIMHOOK_BENCH_VERSUS',
    decide: 'cpu',
  },
  { id: 'naive', a: 'naive', b: 'library', traffic: MIX, decide: 'cpu' },
  // The price of a young generation capped at 2 × 16 MiB (docs/server.md "Operating limits").
  { id: 'young16', a: 'server-sqlite-young16', b: 'server-sqlite', traffic: MIX, decide: 'cpu' },
]
export const DEFAULT_PAIRS = ['sqlite', 'pg', 'library', 'policy', 'empty-policy', 'naive-sqlite', 'library-limit']

export function pair(id: string): Pair {
  const p = PAIRS.find((x) => x.id === id)
  if (p === undefined) throw new Error(`no pair named ${id} (${PAIRS.map((x) => x.id).join(', ')})`)
  return p
}

export interface Side {
  rps: number
  cpuUsPerRequest: number
  cpuShare: number
  p50ms: number
  p99ms: number
  peakRssMiB: number
  non2xx: number
  errors: number
}

export interface PairedRound {
  round: number
  first: string
  a: Side
  b: Side
  /** a req/s ÷ b req/s */
  rpsRatio: number
  /** b CPU µs per request ÷ a CPU µs per request */
  cpuRatio: number
  /** How busy CPU 0 was over the round (1.0: saturated, as the method needs). */
  core0Busy: number
  /** PostgreSQL's own CPU µs per request of a (pg pair only). */
  postgresUsPerRequest?: number
  load1: number
}

export interface PairedResult {
  pair: Pair
  rounds: PairedRound[]
  median: { rpsRatio: number; cpuRatio: number; decided: number }
  range: { min: number; max: number }
  met: boolean | null
  connections: number
  seconds: number
}

const side = (m: Measured): Side => ({
  rps: m.rps,
  cpuUsPerRequest: m.cpuUsPerRequest,
  cpuShare: m.cpuShare,
  p50ms: m.p50_us / 1000,
  p99ms: m.p99_us / 1000,
  peakRssMiB: m.peakRssMiB,
  non2xx: m.non2xx,
  errors: m.socket_errors + m.timeouts,
})

export async function runPair(
  p: Pair,
  o: { rounds: number; seconds: number; warmSeconds: number; connections: number; log: (s: string) => void },
): Promise<PairedResult> {
  const rounds: PairedRound[] = []
  const ta = target(p.a)
  const tb = target(p.b)
  o.log(`\npaired ${p.id}: ${p.a} ÷ ${p.b}, ${p.traffic}${p.target !== undefined ? ` (target ≥ ${p.target})` : ''}`)
  for (let round = 1; round <= o.rounds; round++) {
    const order = round % 2 === 1 ? [ta, tb] : [tb, ta]
    const running: Running[] = []
    try {
      for (const t of order) running.push(await startTarget(t))
      const [r1, r2] = running as [Running, Running]
      const env = p.env ?? {}
      await Promise.all(running.map((r) => runWrk({ port: r.port, seconds: o.warmSeconds, connections: o.connections, pid: r.pid, env })))
      const load1 = load()[0]!
      const core0 = coreTicks(0)
      const pgBefore = p.a === 'server-pg' || p.b === 'server-pg' ? postgresCpuMicros() : NaN
      const [m1, m2] = await Promise.all([
        runWrk({ port: r1.port, seconds: o.seconds, connections: o.connections, pid: r1.pid, env }),
        runWrk({ port: r2.port, seconds: o.seconds, connections: o.connections, pid: r2.pid, env }),
      ])
      const pgUs = postgresCpuMicros() - pgBefore
      const core0After = coreTicks(0)
      const ma = r1.name === p.a ? m1 : m2
      const mb = r1.name === p.a ? m2 : m1
      const result: PairedRound = {
        round,
        first: r1.name,
        a: side(ma),
        b: side(mb),
        rpsRatio: ma.rps / mb.rps,
        cpuRatio: mb.cpuUsPerRequest / ma.cpuUsPerRequest,
        core0Busy: (core0After.busy - core0.busy) / Math.max(1, core0After.total - core0.total),
        load1,
      }
      if (Number.isFinite(pgUs)) result.postgresUsPerRequest = pgUs / Math.max(1, (p.a === 'server-pg' ? ma : mb).requests)
      rounds.push(result)
      o.log(
        `  round ${round} (${r1.name} first): ${p.a} ${Math.round(ma.rps).toLocaleString('en')} req/s ${ma.cpuUsPerRequest.toFixed(1)} µs/req ${(ma.cpuShare * 100).toFixed(0)} %` +
          ` · ${p.b} ${Math.round(mb.rps).toLocaleString('en')} req/s ${mb.cpuUsPerRequest.toFixed(1)} µs/req ${(mb.cpuShare * 100).toFixed(0)} %` +
          ` → req/s ${result.rpsRatio.toFixed(3)}, CPU ${result.cpuRatio.toFixed(3)}; CPU 0 busy ${(result.core0Busy * 100).toFixed(0)} %` +
          (result.postgresUsPerRequest !== undefined ? `; PostgreSQL ${result.postgresUsPerRequest.toFixed(1)} µs/req` : '') +
          (ma.non2xx + mb.non2xx + result.a.errors + result.b.errors > 0
            ? `; NON-2XX ${ma.non2xx}/${mb.non2xx}, ERRORS ${result.a.errors}/${result.b.errors}`
            : ''),
      )
    } finally {
      await Promise.all(running.map((r) => r.stop()))
    }
  }
  const decidedOf = (r: PairedRound) => (p.decide === 'rps' ? r.rpsRatio : r.cpuRatio)
  const decided = median(rounds.map(decidedOf))
  const out: PairedResult = {
    pair: p,
    rounds,
    median: { rpsRatio: median(rounds.map((r) => r.rpsRatio)), cpuRatio: median(rounds.map((r) => r.cpuRatio)), decided },
    range: { min: Math.min(...rounds.map(decidedOf)), max: Math.max(...rounds.map(decidedOf)) },
    met: p.target === undefined ? null : decided >= p.target,
    connections: o.connections,
    seconds: o.seconds,
  }
  o.log(
    `  → ${p.id}: median ${p.decide === 'rps' ? 'req/s' : 'CPU'} ratio ${decided.toFixed(3)} (rounds ${out.range.min.toFixed(3)}–${out.range.max.toFixed(3)})` +
      (p.target !== undefined ? `, target ≥ ${p.target}: ${out.met ? 'met' : 'MISSED'}` : ''),
  )
  return out
}
