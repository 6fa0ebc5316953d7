/**
 * What the bench reads from /proc and the host: CPU time and RSS of a process (all its threads),
 * the CPU time of PostgreSQL's processes, how busy a core was, and the machine and the versions a
 * result was taken with.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { cpus, loadavg } from 'node:os'
import type * as NodeSqlite from 'node:sqlite'

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
  } catch {
    return 100
  }
})()
const US_PER_TICK = 1e6 / CLK_TCK

/** utime + stime of /proc/<pid>/stat, in µs: the whole process, every thread (worker threads included). */
export function cpuMicros(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
    return (Number(fields[11]) + Number(fields[12])) * US_PER_TICK
  } catch {
    return NaN
  }
}

export function rssMiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) / 1024 : 0
  } catch {
    return 0
  }
}

/**
 * CPU time of every process named `postgres` on this host (server, backends, WAL writer,
 * checkpointer), in µs. Valid for the bench only when the database runs on this machine and
 * nothing else uses it during the run.
 */
export function postgresCpuMicros(): number {
  let total = 0
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const open = stat.indexOf('(')
      const close = stat.lastIndexOf(')')
      if (stat.slice(open + 1, close) !== 'postgres') continue
      const fields = stat.slice(close + 2).split(' ')
      total += (Number(fields[11]) + Number(fields[12])) * US_PER_TICK
    } catch {
      // the process ended while we read the list
    }
  }
  return total
}

/** Busy and total jiffies of one core (/proc/stat), to tell whether it was saturated over an interval. */
export function coreTicks(core: number): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`cpu${core} `))
  if (line === undefined) return { busy: NaN, total: NaN }
  const n = line.trim().split(/\s+/).slice(1).map(Number)
  const total = n.reduce((a, b) => a + b, 0)
  const idle = (n[3] ?? 0) + (n[4] ?? 0)
  return { busy: total - idle, total }
}

export const load = () => loadavg().map((x) => Math.round(x * 100) / 100)

export interface Machine {
  cpu: string
  cores: number
  kernel: string
  node: string
  wrk: string
  sqlite: string
  postgres: string | null
  commit: string
  dirty: boolean
  /** /proc/sys/kernel/sched_autogroup_enabled: a session (each target is one) is a scheduling group of its own. */
  autogroup: boolean
}

/** The machine and every version a result depends on. */
export async function machine(pgUrl: string | undefined): Promise<Machine> {
  const wrk = spawnSync('wrk', ['-v'], { encoding: 'utf8' })
  const sqlite = (() => {
    try {
      // node:sqlite prints an experimental warning on Node 22; the version query is all we need.
      const { DatabaseSync } = createRequire(import.meta.url)('node:sqlite') as typeof NodeSqlite
      const db = new DatabaseSync(':memory:')
      const v = (db.prepare('select sqlite_version() as v').get() as { v: string }).v
      db.close()
      return v
    } catch (err) {
      return `unknown (${String(err)})`
    }
  })()
  let postgres: string | null = null
  if (pgUrl !== undefined) {
    const { default: pg } = await import('pg')
    const client = new pg.Client({ connectionString: pgUrl })
    try {
      await client.connect()
      postgres = ((await client.query('show server_version')).rows[0] as { server_version: string }).server_version
    } catch (err) {
      postgres = `unreachable (${String(err)})`
    } finally {
      await client.end().catch(() => {})
    }
  }
  const git = (...a: string[]) => {
    try {
      return execFileSync('git', a, { encoding: 'utf8' }).trim()
    } catch {
      return ''
    }
  }
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    kernel: readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim(),
    node: process.version,
    wrk: /wrk (\S+)/.exec(wrk.stdout + wrk.stderr)?.[1] ?? 'unknown',
    sqlite,
    postgres,
    commit: git('rev-parse', '--short=12', 'HEAD'),
    dirty: git('status', '--porcelain', '--untracked-files=no') !== '',
    autogroup: (() => {
      try {
        return readFileSync('/proc/sys/kernel/sched_autogroup_enabled', 'utf8').trim() === '1'
      } catch {
        return false
      }
    })(),
  }
}
