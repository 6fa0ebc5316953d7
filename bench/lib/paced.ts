/**
 * Paced load: wrk with a pause after every answer on each connection (`DELAY_MS` in mix.lua), so
 * the rate is about connections ÷ (pause + latency). The number of connections is searched so the
 * load holds 80 % of the target's own measured maximum rate. Used for the before-send p99 (the target and the
 * bare limit at the same rate, alternating rounds) and the soak (RSS over minutes).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { courses, PARTS, sampleMemory, settledAt, type MemorySample, type Part, type PartCourse } from './memory.js'
import { load } from './procs.js'
import { median } from './stats.js'
import { ADMIN, startTarget, target, type Running, type Target } from './targets.js'
import { runWrk, type Measured } from './wrk.js'

export const DELAY_MS = 2

export interface Calibration {
  /** The target's maximum: unpaced, `maxConnections` (100) connections, and the share of one core it used there (1 = a full core). */
  maxRps: number
  maxConnections: number
  maxCpuShare: number
  /** The rate the paced load aims at: 80 % of `maxRps` (for the limit: the target's aim). */
  targetRps: number
  /** The paced connections found: those of the trial whose rate came closest to the aim. */
  connections: number
  delayMs: number
  /** The paced trials: connections, the rate, the core share. */
  trials: Array<{ connections: number; rps: number; cpuShare: number }>
  /** The trial run with `connections`: the rate it held and the core share it used. */
  held: { rps: number; cpuShare: number }
  /** Whether `held.rps` is within `RATE_TOLERANCE` of the aim; if not, `connections` came closest. */
  holds: boolean
}

/**
 * The target's maximum (100 connections, unpaced) and the paced connections that hold `fraction`
 * of that maximum's rate (bench/lib/paced.ts `searchPacing`).
 */
export async function calibrate(
  t: Target,
  env: Record<string, string>,
  o: { seconds: number; fraction: number; log: (s: string) => void },
): Promise<Calibration> {
  const r = await startTarget(t)
  try {
    await runWrk({ port: r.port, seconds: 1, connections: 100, pid: r.pid, env })
    const out = await searchPacing(o.fraction, {
      max: (connections) => runWrk({ port: r.port, seconds: o.seconds, connections, pid: r.pid, env }),
      paced: (connections) => runWrk({ port: r.port, seconds: 2, connections, pid: r.pid, env: { ...env, DELAY_MS: String(DELAY_MS) } }),
    })
    const int = (x: number) => Math.round(x).toLocaleString('en')
    o.log(
      `  ${t.name}: maximum ${int(out.maxRps)} req/s (${out.maxConnections} connections, unpaced, ${Math.round(100 * out.maxCpuShare)} % of the core) → aim ${Math.round(o.fraction * 100)} % of that rate, ${int(out.targetRps)} req/s: ` +
        `${out.connections} paced connections (${DELAY_MS} ms pause) held ${int(out.held.rps)} req/s (${Math.round((100 * out.held.rps) / out.targetRps)} % of the aim, ${Math.round(100 * out.held.cpuShare)} % of the core)` +
        (out.holds ? '' : ` — NOT within ${Math.round(100 * RATE_TOLERANCE)} % of the aim: the closest count`) +
        `; trials ${out.trials.map((x) => `${x.connections} → ${int(x.rps)} req/s, ${Math.round(100 * x.cpuShare)} %`).join('; ')}`,
    )
    return out
  } finally {
    await r.stop()
  }
}

/** One load of the search: the rate it got and the share of one core the target used. */
export type Load = (connections: number) => Promise<{ rps: number; cpuShare: number }>

/** Paced trials at most; the search stops earlier once a trial's rate is within `RATE_TOLERANCE` of the aim. */
const TRIALS = 7
/** How far from the aim a held rate may be, as a share of the aim. */
export const RATE_TOLERANCE = 0.05

/**
 * The search `calibrate` runs, apart from wrk: `max(c)` loads the target unpaced with c
 * connections, `paced(c)` with c paced connections. The maximum with 100 connections gives the
 * rate to aim at, `fraction` of its rate; the connections are then searched (`searchConnections`)
 * until a paced trial holds that rate.
 */
export async function searchPacing(fraction: number, load: { max: Load; paced: Load }): Promise<Calibration> {
  const maxConnections = 100
  const max = await load.max(maxConnections)
  const targetRps = fraction * max.rps
  return { maxRps: max.rps, maxConnections, maxCpuShare: max.cpuShare, ...(await searchConnections(targetRps, load.paced)) }
}

/**
 * The paced connections that hold `targetRps`. The held rate grows with the connections (about
 * connections ÷ (pause + latency), until the target's core is full), so the count is searched like
 * a root: from a guess, each 2 s trial either ends the search (its rate within `RATE_TOLERANCE` of
 * the aim) or moves the count (`nextConnections`), at most seven trials. The count returned is the
 * trial's that came closest; `holds` says whether it is within the tolerance.
 */
export async function searchConnections(
  targetRps: number,
  paced: Load,
): Promise<Omit<Calibration, 'maxRps' | 'maxConnections' | 'maxCpuShare'>> {
  let connections: number | undefined = Math.max(1, Math.min(1000, Math.round((targetRps * (DELAY_MS + 1)) / 1000)))
  const trials: Calibration['trials'] = []
  for (let i = 0; i < TRIALS && connections !== undefined; i++) {
    const m = await paced(connections)
    trials.push({ connections, rps: m.rps, cpuShare: m.cpuShare })
    if (Math.abs(m.rps - targetRps) <= RATE_TOLERANCE * targetRps) break
    connections = nextConnections(trials, targetRps)
  }
  const best = trials.reduce((a, b) => (Math.abs(b.rps - targetRps) < Math.abs(a.rps - targetRps) ? b : a))
  return {
    targetRps,
    connections: best.connections,
    delayMs: DELAY_MS,
    trials,
    held: { rps: best.rps, cpuShare: best.cpuShare },
    holds: Math.abs(best.rps - targetRps) <= RATE_TOLERANCE * targetRps,
  }
}

/**
 * The next count to try, or undefined when no count can do better than those tried. Between a
 * count below the aim and one above it: the secant (linear interpolation), kept strictly between
 * them. Only below: extrapolated from the two largest counts (or proportionally, before there are
 * two, or after a count that added no rate), at least one more and at most threefold; the search
 * ends when more connections twice in a row added no rate (under 1 %: the target is full) or at 1000. Only above: proportionally fewer,
 * at most a third.
 */
export function nextConnections(trials: Calibration['trials'], targetRps: number): number | undefined {
  const below = trials.filter((t) => t.rps < targetRps).sort((a, b) => a.connections - b.connections)
  const above = trials.filter((t) => t.rps >= targetRps).sort((a, b) => a.connections - b.connections)
  const lo = below.at(-1)
  const hi = above[0]
  if (lo !== undefined && hi !== undefined) {
    // Noise can put a count that held more than the aim under one that held less: no bracket left.
    if (hi.connections - lo.connections <= 1) return undefined
    const secant = lo.connections + ((targetRps - lo.rps) * (hi.connections - lo.connections)) / Math.max(1e-9, hi.rps - lo.rps)
    return Math.min(hi.connections - 1, Math.max(lo.connections + 1, Math.round(secant)))
  }
  if (lo !== undefined) {
    if (lo.connections >= 1000) return undefined
    // More connections that add no rate (under 1 %) twice in a row: the target is full. Once may be noise.
    const gain = (a: { rps: number } | undefined, b: { rps: number } | undefined) =>
      a === undefined || b === undefined || b.rps > 1.01 * a.rps
    const prev = below.at(-2)
    if (!gain(prev, lo) && !gain(below.at(-3), prev)) return undefined
    const guess =
      prev !== undefined && gain(prev, lo)
        ? lo.connections + ((targetRps - lo.rps) * (lo.connections - prev.connections)) / (lo.rps - prev.rps)
        : (lo.connections * targetRps) / Math.max(1e-9, lo.rps)
    return Math.min(1000, 3 * lo.connections, Math.max(lo.connections + 1, Math.round(guess)))
  }
  if (hi === undefined || hi.connections <= 1) return undefined
  const guess = (hi.connections * targetRps) / Math.max(1e-9, hi.rps)
  return Math.max(1, Math.ceil(hi.connections / 3), Math.min(hi.connections - 1, Math.round(guess)))
}

/** The connections that pace `t` at a rate measured elsewhere (the limit, at the case's aim): the same search. */
async function paceAt(t: Target, env: Record<string, string>, targetRps: number, log: (s: string) => void): Promise<Calibration> {
  const r = await startTarget(t)
  try {
    const out = await searchConnections(targetRps, (c) =>
      runWrk({ port: r.port, seconds: 2, connections: c, pid: r.pid, env: { ...env, DELAY_MS: String(DELAY_MS) } }),
    )
    const int = (x: number) => Math.round(x).toLocaleString('en')
    log(
      `  ${t.name}: the same ${int(targetRps)} req/s: ${out.connections} paced connections held ${int(out.held.rps)} req/s (${Math.round((100 * out.held.rps) / targetRps)} % of the aim, ${Math.round(100 * out.held.cpuShare)} % of the core)` +
        (out.holds ? '' : ` — NOT within ${Math.round(100 * RATE_TOLERANCE)} % of the aim: the closest count`) +
        ` (trials ${out.trials.map((x) => `${x.connections} → ${int(x.rps)}`).join(', ')})`,
    )
    return { maxRps: NaN, maxConnections: NaN, maxCpuShare: NaN, ...out }
  } finally {
    await r.stop()
  }
}

/** One paced run of one target: rate, latency, refusals, and the event loop's wait for a core. */
export interface PacedView {
  rps: number
  p50ms: number
  p99ms: number
  maxms: number
  non2xx: number
  errors: number
  /** µs per request the event loop's thread was runnable but waited for a core (NaN: not measured) */
  loopWaitUs: number
  /** `serve` only: before-send records the store dropped past its cap since the target started (a writer that fell behind). */
  dropped?: number
}

export interface LatencyRound {
  round: number
  first: string
  target: PacedView
  limit: PacedView
  /** target p99 − limit p99, ms */
  p99DeltaMs: number
  /** With `versus`: the other build or setting of the target, in the same round at the same rate. */
  versus?: PacedView
  /** versus p99 − limit p99, ms */
  versusDeltaMs?: number
}

export interface LatencyResult {
  target: string
  calibration: Calibration
  /** The limit paced at the same rate (its own connection count: it answers faster). */
  limitCalibration: Calibration
  rounds: LatencyRound[]
  medianP99Ms: { target: number; limit: number }
  /** median target p99 − median limit p99 */
  deltaMs: number
  met: boolean
  seconds: number
  /** The A/B case (`versus`): its pacing at the target's aim, median p99, Δ to the limit, and the median of its per-round p99 − the target's. */
  versus?: { target: string; calibration: Calibration; medianP99Ms: number; deltaMs: number; met: boolean; minusTargetMs: number }
}

const view = (m: Measured, loopWaitNs = NaN) => ({
  rps: m.rps,
  p50ms: m.p50_us / 1000,
  p99ms: m.p99_us / 1000,
  maxms: m.max_us / 1000,
  non2xx: m.non2xx,
  errors: m.socket_errors + m.timeouts,
  /** How long the event loop's thread was runnable but waited for a core, µs per request (NaN where /proc has no schedstat). */
  loopWaitUs: loopWaitNs / 1000 / Math.max(1, m.requests),
})

/** `timhook_store_dropped_records` of a running `serve` (its /metrics, behind the bench's admin token); NaN if it cannot be read. */
export async function droppedRecords(port: number): Promise<number> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } })
    const m = /^timhook_store_dropped_records(?:\{[^}]*\})?\s+(\d+(?:\.\d+)?)/m.exec(await res.text())
    return m === null ? NaN : Number(m[1])
  } catch {
    return NaN
  }
}

/**
 * Nanoseconds the thread `tid` of `pid` has spent runnable, waiting for a core (the second field
 * of Linux's /proc/<pid>/task/<tid>/schedstat); NaN where it cannot be read. For the event loop
 * (tid = pid) it is the time its answers queued behind other threads — the writer, V8's helpers,
 * other processes — which a lower-priority writer should shorten.
 */
export function waitedNs(pid: number, tid = pid): number {
  try {
    return Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[1])
  } catch {
    return NaN
  }
}

/**
 * Before-send p99 of `name` at 80 % of its own before-send maximum, and of the bare limit paced
 * at the same rate (the same pause; its own number of connections, calibrated the same way,
 * since it answers faster), one process at a time on CPU 0, in alternating rounds. Target:
 * within `withinMs` of the limit's.
 *
 * `versus` (an A/B switch): a second target (another setting of the same server, e.g.
 * `server-sqlite-young16`) paced at the same rate as `name` (its connections searched the same
 * way) and run in the same rounds; the three take turns in each position (round r starts with the
 * (r mod 3)-th), so a drift of the host's noise over the run hits each alike. Reported: each
 * one's Δ to the limit, and the median of the rounds' versus p99 − target p99.
 */
export async function beforeSendP99(
  name: string,
  o: { rounds: number; seconds: number; calibrateSeconds: number; withinMs: number; log: (s: string) => void; versus?: string | undefined },
): Promise<LatencyResult> {
  const env = { ONLY: 'before', SENDERS: '100003' }
  const vs = o.versus
  o.log(
    `\nbefore-send p99 at 80 % of ${name}'s before-send maximum, beside the limit paced at the same rate` +
      (vs === undefined ? '' : ` and ${vs} paced at the same rate (A/B)`),
  )
  const calibration = await calibrate(target(name), env, { seconds: o.calibrateSeconds, fraction: 0.8, log: o.log })
  const limitCalibration = await paceAt(target('limit'), env, calibration.targetRps, o.log)
  const versusCalibration = vs === undefined ? undefined : await paceAt(target(vs), env, calibration.targetRps, o.log)
  const connectionsOf = (n: string) =>
    n === 'limit' ? limitCalibration.connections : n === vs ? versusCalibration!.connections : calibration.connections
  const paced = { ...env, DELAY_MS: String(calibration.delayMs) }
  const rounds: LatencyRound[] = []
  for (let round = 1; round <= o.rounds; round++) {
    let order: string[]
    if (vs === undefined) order = round % 2 === 1 ? [name, 'limit'] : ['limit', name]
    else {
      const three = [name, vs, 'limit']
      const k = (round - 1) % 3
      order = [...three.slice(k), ...three.slice(0, k)]
    }
    const got: Record<string, PacedView> = {}
    for (const n of order) {
      const r: Running = await startTarget(target(n))
      try {
        await runWrk({ port: r.port, seconds: 2, connections: connectionsOf(n), pid: r.pid, env: paced })
        const w0 = waitedNs(r.pid)
        const m = await runWrk({ port: r.port, seconds: o.seconds, connections: connectionsOf(n), pid: r.pid, env: paced })
        got[n] = view(m, waitedNs(r.pid) - w0)
        if (n.startsWith('server-')) got[n]!.dropped = await droppedRecords(r.port)
      } finally {
        await r.stop()
      }
    }
    const row: LatencyRound = {
      round,
      first: order[0]!,
      target: got[name]!,
      limit: got.limit!,
      p99DeltaMs: got[name]!.p99ms - got.limit!.p99ms,
      ...(vs === undefined ? {} : { versus: got[vs]!, versusDeltaMs: got[vs]!.p99ms - got.limit!.p99ms }),
    }
    rounds.push(row)
    const one = (n: string, x: PacedView) =>
      `${n} ${Math.round(x.rps).toLocaleString('en')} req/s p50 ${x.p50ms.toFixed(2)} p99 ${x.p99ms.toFixed(2)} max ${x.maxms.toFixed(1)} ms, loop waited ${x.loopWaitUs.toFixed(1)} µs/req` +
      (x.dropped === undefined ? '' : `, dropped ${x.dropped}`) +
      (x.non2xx + x.errors > 0 ? ` (NON-2XX ${x.non2xx}, ERRORS ${x.errors})` : '')
    o.log(
      `  round ${round} (${order.join(', ')}): ${one(name, row.target)}` +
        (row.versus === undefined ? '' : ` · ${one(vs!, row.versus)}`) +
        ` · ${one('limit', row.limit)} → Δp99 ${row.p99DeltaMs.toFixed(2)} ms` +
        (row.versusDeltaMs === undefined ? '' : `, ${vs} Δp99 ${row.versusDeltaMs.toFixed(2)} ms`),
    )
  }
  const medianP99Ms = { target: median(rounds.map((r) => r.target.p99ms)), limit: median(rounds.map((r) => r.limit.p99ms)) }
  const deltaMs = medianP99Ms.target - medianP99Ms.limit
  const met = deltaMs <= o.withinMs
  o.log(
    `  → ${name}: median p99 ${medianP99Ms.target.toFixed(2)} ms, limit ${medianP99Ms.limit.toFixed(2)} ms: Δ ${deltaMs.toFixed(2)} ms (target ≤ ${o.withinMs} ms): ${met ? 'met' : 'MISSED'}`,
  )
  let versus: LatencyResult['versus']
  if (vs !== undefined) {
    const vP99 = median(rounds.map((r) => r.versus!.p99ms))
    const minusTargetMs = median(rounds.map((r) => r.versus!.p99ms - r.target.p99ms))
    versus = {
      target: vs,
      calibration: versusCalibration!,
      medianP99Ms: vP99,
      deltaMs: vP99 - medianP99Ms.limit,
      met: vP99 - medianP99Ms.limit <= o.withinMs,
      minusTargetMs,
    }
    o.log(
      `  → ${vs}: median p99 ${vP99.toFixed(2)} ms: Δ ${versus.deltaMs.toFixed(2)} ms (target ≤ ${o.withinMs} ms): ${versus.met ? 'met' : 'MISSED'}; ` +
        `${vs} − ${name} per round ${rounds.map((r) => (r.versus!.p99ms - r.target.p99ms).toFixed(2)).join(', ')} ms, median ${minusTargetMs.toFixed(2)} ms`,
    )
  }
  return {
    target: name,
    calibration,
    limitCalibration,
    rounds,
    medianP99Ms,
    deltaMs,
    met,
    seconds: o.seconds,
    ...(versus === undefined ? {} : { versus }),
  }
}

export interface SoakResult {
  target: string
  minutes: number
  calibration: Calibration
  rps: number
  /** The share of one core the target used over the soak (1 = a full core). */
  cpuShare: number
  p50ms: number
  p99ms: number
  non2xx: number
  errors: number
  cpuUsPerRequest: number
  /** Every sampleSeconds: seconds since the load started, MiB by part (bench/lib/memory.ts). */
  samples: MemorySample[]
  sampleSeconds: number
  startMiB: number
  endMiB: number
  /** Least-squares slope of RSS over the fit window, MiB per minute. */
  slopeMiBPerMin: number
  fitMinutes: number
  /** Each part's start, value where the fit window begins, end, highest and slope. */
  parts: Record<Part, PartCourse>
  /** Seconds into the soak from which RSS stays within SETTLED_MIB of its last value: the warm-up's end, read from the data. */
  settledS: number
  /** The sizes of the SQLite files at the end (MiB): database, -wal, -shm. */
  files?: { db: number; wal: number; shm: number }
  load: { start: number[]; end: number[] }
}

/** The band RSS must stay in, from the warm-up's end to the last sample, MiB. */
export const SETTLED_MIB = 8

/**
 * A soak's load as back-to-back wrk runs of at most `SEGMENT_SECONDS`: each run signs its callbacks
 * with the time it starts (bench/lib/wrk.ts), and a `RequestTime` older than the receiver's allowed
 * skew (60 s by default) is refused, so one long run would measure refusals after its first minute.
 * Totals are summed; p50/p99/max are the worst segment's; RSS samples are on one time line.
 */
const SEGMENT_SECONDS = 40

async function segments(totalSeconds: number, run: (seconds: number) => Promise<Measured>): Promise<Measured> {
  const parts: Measured[] = []
  const samples: Measured['rssSamples'] = []
  let elapsed = 0
  while (elapsed < totalSeconds - 0.5) {
    const seconds = Math.max(1, Math.round(Math.min(SEGMENT_SECONDS, totalSeconds - elapsed)))
    const m = await run(seconds)
    for (const x of m.rssSamples) samples.push({ s: x.s + elapsed, mib: x.mib })
    parts.push(m)
    elapsed += m.duration_us / 1e6
  }
  const sum = (f: (m: Measured) => number) => parts.reduce((a, m) => a + f(m), 0)
  const worst = (f: (m: Measured) => number) => Math.max(...parts.map(f))
  const requests = sum((m) => m.requests)
  const duration_us = sum((m) => m.duration_us)
  return {
    requests,
    duration_us,
    non2xx: sum((m) => m.non2xx),
    socket_errors: sum((m) => m.socket_errors),
    timeouts: sum((m) => m.timeouts),
    p50_us: worst((m) => m.p50_us),
    p90_us: worst((m) => m.p90_us),
    p99_us: worst((m) => m.p99_us),
    max_us: worst((m) => m.max_us),
    rps: requests / (duration_us / 1e6),
    cpuUsPerRequest: sum((m) => m.cpuUsPerRequest * m.requests) / Math.max(1, requests),
    cpuShare: sum((m) => m.cpuShare * m.duration_us) / Math.max(1, duration_us),
    peakRssMiB: worst((m) => m.peakRssMiB),
    rssSamples: samples,
  }
}

/**
 * `name` on the mix at 80 % of its maximum for `minutes`, its memory sampled every few seconds by
 * part: RSS (anonymous, file-backed, shared), each thread's V8 heap and the live heap after the
 * latest full collection (bench/lib/memory-probe.mjs, preloaded into the target), V8's `external`,
 * the native rest, the SQLite files. Reported: each part's start, end, highest and least-squares
 * slope over the last 8 minutes (the last 80 % of a shorter soak), and when RSS settled.
 */
export async function soak(name: string, o: { minutes: number; calibrateSeconds: number; log: (s: string) => void }): Promise<SoakResult> {
  const sampleSeconds = o.minutes >= 2 ? 5 : 1
  o.log(`\nsoak: ${name} on the mix at 80 % of its maximum for ${o.minutes} min, memory by part every ${sampleSeconds} s`)
  const calibration = await calibrate(target(name), {}, { seconds: o.calibrateSeconds, fraction: 0.8, log: o.log })
  const probeDir = mkdtempSync(join(tmpdir(), 'timhook-bench-memory-'))
  const r = await startTarget(target(name), { memoryProbe: probeDir })
  const loadStart = load()
  const samples: MemorySample[] = []
  const t0 = performance.now()
  const take = () =>
    samples.push(sampleMemory({ pid: r.pid, s: (performance.now() - t0) / 1000, probeDir, ...(r.db === undefined ? {} : { db: r.db }) }))
  take()
  const sampler = setInterval(take, sampleSeconds * 1000)
  try {
    const m = await segments(o.minutes * 60, (seconds) =>
      runWrk({
        port: r.port,
        seconds,
        connections: calibration.connections,
        pid: r.pid,
        env: { DELAY_MS: String(calibration.delayMs) },
        rssEveryMs: sampleSeconds * 1000,
      }),
    )
    clearInterval(sampler)
    take()
    if (m.non2xx + m.socket_errors + m.timeouts > 0)
      throw new Error(
        `soak: ${m.non2xx} non-2xx answers and ${m.socket_errors + m.timeouts} errors of ${m.requests} requests: the load was refused, the RSS says nothing`,
      )
    const fitMinutes = o.minutes >= 10 ? 8 : o.minutes * 0.8
    const from = (o.minutes - fitMinutes) * 60
    const parts = courses(samples, from)
    const round = (x: number) => Math.round(x * 10) / 10
    const last = samples.at(-1)!
    const out: SoakResult = {
      target: name,
      minutes: o.minutes,
      calibration,
      rps: m.rps,
      cpuShare: m.cpuShare,
      p50ms: m.p50_us / 1000,
      p99ms: m.p99_us / 1000,
      non2xx: m.non2xx,
      errors: m.socket_errors + m.timeouts,
      cpuUsPerRequest: m.cpuUsPerRequest,
      samples: samples.map((x) => ({
        ...x,
        ...Object.fromEntries(PARTS.map((p) => [p, round(x[p])])),
        s: round(x.s),
        heaps: Object.fromEntries(Object.entries(x.heaps).map(([k, v]) => [k, round(v)])),
      })),
      sampleSeconds,
      startMiB: parts.rss.start,
      endMiB: parts.rss.end,
      slopeMiBPerMin: parts.rss.slopeMiBPerMin,
      fitMinutes,
      parts,
      settledS: settledAt(samples, SETTLED_MIB),
      ...(last.files === undefined ? {} : { files: last.files }),
      load: { start: loadStart, end: load() },
    }
    const f = (x: number) => x.toFixed(1)
    o.log(
      `  ${name}: ${Math.round(out.rps).toLocaleString('en')} req/s (${Math.round((100 * out.rps) / calibration.targetRps)} % of the aim ${Math.round(calibration.targetRps).toLocaleString('en')}; ${Math.round(100 * out.cpuShare)} % of the core), p99 ${out.p99ms.toFixed(2)} ms; ` +
        `RSS ${f(out.startMiB)} → ${f(out.endMiB)} MiB, slope over the last ${fitMinutes.toFixed(1)} min ${out.slopeMiBPerMin.toFixed(2)} MiB/min, settled (±${SETTLED_MIB} MiB) from ${Math.round(out.settledS)} s` +
        `; by part (start → end, max, MiB/min): ${PARTS.filter((p) => p !== 'rss')
          .map((p) => `${p} ${f(parts[p].start)} → ${f(parts[p].end)}, ${f(parts[p].max)}, ${parts[p].slopeMiBPerMin.toFixed(2)}`)
          .join('; ')}`,
    )
    return out
  } finally {
    clearInterval(sampler)
    await r.stop()
    rmSync(probeDir, { recursive: true, force: true })
  }
}
