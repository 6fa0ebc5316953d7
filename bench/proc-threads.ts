/**
 * CPU per thread of `serve` and of its child processes (the background work: SQLite readers, the
 * sinks), from /proc (Linux): each thread's CPU time and run-queue wait (schedstat, ns), name and
 * scheduling. A child's threads are named `<role> <thread>` (`readers V8Worker`, `sinks main`), so a
 * report shows what the callbacks' event loop spent beside what ran apart from it.
 */
import { readdirSync, readFileSync } from 'node:fs'

export interface ThreadUse {
  /** ns */
  cpu: number
  /** ns waited for a core */
  wait: number
  count: number
  /** e.g. "SCHED_IDLE", "nice 0", "SCHED_IDLE/nice 0" */
  policy: string
}

export interface TreeUse {
  /** serve's main thread. */
  loop: { cpu: number; wait: number }
  byName: Map<string, ThreadUse>
  /** Per process of the tree ("serve", "readers", "sinks"): total CPU, ns. */
  byProcess: Map<string, number>
}

/** The role of a background child from its command line (the module it runs). */
function roleOf(pid: number): string {
  const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
  if (cmd.includes('sqlite-reader-thread')) return 'readers'
  if (cmd.includes('sinks-thread')) return 'sinks'
  return 'child'
}

/** `root` and its children (one level: serve starts its background processes itself). */
export function processTree(root: number): Array<{ pid: number; role: string }> {
  const out = [{ pid: root, role: 'serve' }]
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      if (ppid === root) out.push({ pid: Number(p), role: roleOf(Number(p)) })
    } catch {
      // ended meanwhile
    }
  }
  return out
}

/** CPU and wait of every thread of `root` and its children, now. */
export function treeUse(root: number): TreeUse {
  const out: TreeUse = { loop: { cpu: 0, wait: 0 }, byName: new Map(), byProcess: new Map() }
  for (const { pid, role } of processTree(root)) {
    let tids: string[] = []
    try {
      tids = readdirSync(`/proc/${pid}/task`)
    } catch {
      continue
    }
    for (const tid of tids) {
      try {
        const [cpu, wait] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ').map(Number) as [number, number]
        out.byProcess.set(role, (out.byProcess.get(role) ?? 0) + cpu)
        if (pid === root && Number(tid) === pid) {
          out.loop = { cpu, wait }
          continue
        }
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
        const policy = Number(f[38]) === 5 ? 'SCHED_IDLE' : `nice ${f[16]}`
        const thread = Number(tid) === pid ? 'main' : readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim()
        const name = pid === root ? thread : `${role} ${thread}`
        const t = out.byName.get(name)
        const policies = new Set([...(t?.policy.split('/') ?? []), policy])
        out.byName.set(name, {
          cpu: (t?.cpu ?? 0) + cpu,
          wait: (t?.wait ?? 0) + wait,
          count: (t?.count ?? 0) + 1,
          policy: [...policies].join('/'),
        })
      } catch {
        // a thread that ended meanwhile
      }
    }
  }
  return out
}

/** What happened between two samples: per name, ms of CPU (threads that ended meanwhile count from 0). */
export function used(
  a: TreeUse,
  b: TreeUse,
): { loop: { cpu: number; wait: number }; byName: Map<string, ThreadUse>; byProcess: Map<string, number> } {
  const byName = new Map<string, ThreadUse>()
  for (const [name, t] of b.byName) {
    const before = a.byName.get(name)
    byName.set(name, { ...t, cpu: Math.max(0, t.cpu - (before?.cpu ?? 0)) / 1e6, wait: Math.max(0, t.wait - (before?.wait ?? 0)) / 1e6 })
  }
  const byProcess = new Map([...b.byProcess].map(([role, cpu]) => [role, Math.max(0, cpu - (a.byProcess.get(role) ?? 0)) / 1e6]))
  return { loop: { cpu: (b.loop.cpu - a.loop.cpu) / 1e6, wait: (b.loop.wait - a.loop.wait) / 1e6 }, byName, byProcess }
}
