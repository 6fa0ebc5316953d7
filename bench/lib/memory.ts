/**
 * A target's memory by part, for the soak: RSS split by the kernel (anonymous, file-backed, shared
 * memory such as SQLite's `-shm`), each thread's V8 heap and the memory V8 counts outside its heaps
 * (from bench/lib/memory-probe.mjs, preloaded into the target), and what is left: native memory
 * outside V8 — SQLite's page caches, malloc's arenas, thread stacks, code.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { slope } from './stats.js'

const MiB = 1024 * 1024

/** What the probe writes per thread (bench/lib/memory-probe.mjs). */
export interface ThreadMemory {
  thread: string
  threadId: number
  at: number
  heapTotal: number
  heapUsed: number
  external: number
  arrayBuffers: number
  /** heapUsed just after the latest full collection (NaN before the first): the live heap. */
  afterMajor: number
  /** Full collections so far. */
  majors: number
  heapLimit: number
  physical: number
  malloced: number
  spaces: Record<string, number>
}

/** One sample: MiB throughout. */
export interface MemorySample {
  s: number
  rss: number
  /** /proc/<pid>/status RssAnon, RssFile, RssShmem. */
  anon: number
  file: number
  shmem: number
  /** Sum over threads of the V8 heaps' committed size (heapTotal) and of what is live in them (heapUsed). */
  heapTotal: number
  heapUsed: number
  /** Sum over threads of heapUsed just after each one's latest full collection: the live heap (NaN before each has had one). */
  live: number
  /** Sum over threads of V8's `external` (ArrayBuffers and other memory V8 is told about, outside the heaps). */
  external: number
  /** anon − heapTotal − external: anonymous memory V8 does not know of (SQLite, malloc arenas, stacks, V8's own malloc). */
  native: number
  /** RSS of the target's child processes, all of them (background readers, the sinks' process), summed. */
  children: number
  /** heapTotal per thread, by thread name. */
  heaps: Record<string, number>
  /** The SQLite files' sizes on disk, when the target has them: database, -wal, -shm. */
  files?: { db: number; wal: number; shm: number }
}

export const PARTS = ['rss', 'anon', 'file', 'shmem', 'heapTotal', 'live', 'external', 'native', 'children'] as const
export type Part = (typeof PARTS)[number]

/** RssAnon, RssFile, RssShmem of /proc/<pid>/status, MiB; zeros when the process is gone. */
export function rssParts(pid: number): { rss: number; anon: number; file: number; shmem: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) / 1024
    return { rss: kb('VmRSS'), anon: kb('RssAnon'), file: kb('RssFile'), shmem: kb('RssShmem') }
  } catch {
    return { rss: 0, anon: 0, file: 0, shmem: 0 }
  }
}

/** The pids of every descendant of `pid` (children, their children, …), from /proc/<n>/stat. */
export function descendants(pid: number): number[] {
  const parent = new Map<number, number>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      parent.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]))
    } catch {
      // the process ended while the list was read
    }
  }
  const out: number[] = []
  const wanted = new Set([pid])
  for (let grew = true; grew;) {
    grew = false
    for (const [p, pp] of parent) {
      if (wanted.has(pp) && !wanted.has(p)) {
        wanted.add(p)
        out.push(p)
        grew = true
      }
    }
  }
  return out
}

/** The latest report of each thread of `pid` in the probe's directory. */
export function threadMemory(dir: string, pid: number): ThreadMemory[] {
  const out: ThreadMemory[] = []
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch {
    return out
  }
  for (const n of names) {
    if (!n.startsWith(`${pid}-`) || !n.endsWith('.json')) continue
    try {
      out.push(JSON.parse(readFileSync(join(dir, n), 'utf8')) as ThreadMemory)
    } catch {
      // a thread that ended between the listing and the read
    }
  }
  return out.sort((a, b) => a.threadId - b.threadId)
}

const size = (p: string) => {
  try {
    return statSync(p).size / MiB
  } catch {
    return 0
  }
}

/**
 * One sample of `pid`'s memory. Threads whose last report is older than `staleMs` (a thread that
 * ended, e.g. a reader replaced) are left out.
 */
export function sampleMemory(o: { pid: number; s: number; probeDir?: string; db?: string; staleMs?: number }): MemorySample {
  const k = rssParts(o.pid)
  const now = Date.now()
  const threads = o.probeDir === undefined ? [] : threadMemory(o.probeDir, o.pid).filter((t) => now - t.at < (o.staleMs ?? 5000))
  const sum = (f: (t: ThreadMemory) => number) => threads.reduce((a, t) => a + f(t), 0) / MiB
  const heaps: Record<string, number> = {}
  for (const t of threads) heaps[t.thread] = (heaps[t.thread] ?? 0) + t.heapTotal / MiB
  const heapTotal = sum((t) => t.heapTotal)
  const external = sum((t) => t.external)
  const out: MemorySample = {
    s: o.s,
    ...k,
    heapTotal,
    heapUsed: sum((t) => t.heapUsed),
    live: threads.length === 0 ? NaN : sum((t) => (Number.isFinite(t.afterMajor) ? t.afterMajor : t.heapUsed)),
    external,
    native: threads.length === 0 ? NaN : k.anon - heapTotal - external,
    children: descendants(o.pid).reduce((a, p) => a + rssParts(p).rss, 0),
    heaps,
  }
  if (o.db !== undefined) out.files = { db: size(o.db), wal: size(`${o.db}-wal`), shm: size(`${o.db}-shm`) }
  return out
}

/** One part's course over a soak, MiB: first sample, first sample of the fit window, last, highest, and the least-squares slope (MiB/min) over the window. */
export interface PartCourse {
  start: number
  fitStart: number
  end: number
  max: number
  slopeMiBPerMin: number
}

/**
 * Each part's course: `fromS` is where the fit window begins (the warm-up before it is shown, not fitted).
 * A part without values (no probe) has NaN throughout.
 */
export function courses(samples: MemorySample[], fromS: number): Record<Part, PartCourse> {
  const out = {} as Record<Part, PartCourse>
  const window = samples.filter((x) => x.s >= fromS)
  for (const part of PARTS) {
    const all = samples.map((x) => x[part]).filter(Number.isFinite)
    const fit = window.filter((x) => Number.isFinite(x[part]))
    out[part] = {
      start: all[0] ?? NaN,
      fitStart: fit[0]?.[part] ?? NaN,
      end: all.at(-1) ?? NaN,
      max: all.length === 0 ? NaN : Math.max(...all),
      slopeMiBPerMin: slope(fit.map((x) => ({ x: x.s / 60, y: x[part] }))),
    }
  }
  return out
}

/**
 * When RSS settled: the first sample from which every later one stays within `toleranceMiB` of the
 * last. The end of the warm-up, read from the data; NaN when fewer than two samples.
 */
export function settledAt(samples: Array<{ s: number; rss: number }>, toleranceMiB: number): number {
  if (samples.length < 2) return NaN
  const end = samples.at(-1)!.rss
  let at = samples.at(-1)!.s
  for (let i = samples.length - 1; i >= 0; i--) {
    if (Math.abs(samples[i]!.rss - end) > toleranceMiB) break
    at = samples[i]!.s
  }
  return at
}
