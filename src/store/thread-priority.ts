/**
 * Background threads (the admin API's SQLite readers, the sinks' delivery loops) give way to the
 * event loop that answers callbacks: each lowers its own scheduling priority as far as Linux lets
 * an unprivileged process go.
 *
 * - `SCHED_IDLE` (set with util-linux's `chrt --idle`, since Node has no binding for
 *   `sched_setscheduler`): the thread runs only on CPU time nothing else wants, and a waking
 *   normal thread (the event loop, on a callback) preempts it at once. Nice 19 alone still gets a
 *   share of a busy core and waits for the scheduler's slice to end before it gives way.
 * - Else nice 19 (`setpriority` on the thread's id affects that thread alone on Linux).
 * - Elsewhere, or when neither is permitted, the thread keeps the process's priority.
 *
 * Only for threads that hold nothing a callback waits for: a SQLite reader (WAL: readers never
 * block the writer) or the sinks thread. A thread that takes the store's write lock (the writer, the
 * outbox's cursor writes) keeps its priority, or a starved lock holder would stall commits; the
 * writer may only be made moderately nicer (`niceThisThread`, the `writerNice` option), which
 * slows it by its weight and never stops it.
 *
 * Threads inherit their creator's policy and nice (Linux keeps both across `clone`): a lowered
 * thread must not be the one that starts another thread which must not be lowered. Hence
 * `startThreadPool`: libuv's pool of four threads (file system, DNS lookups, async crypto — the
 * event loop's as well) is created by whichever thread first needs it, so the thread that spawns
 * a background thread starts the pool first.
 */
import { execFileSync } from 'node:child_process'
import { access, readFileSync, readlinkSync } from 'node:fs'
import { getPriority, setPriority } from 'node:os'

/** How the calling thread ended up scheduled. */
export type ThreadPriority = 'idle' | 'nice 19' | 'unchanged'

/**
 * Lowers the calling thread (call it from the thread itself).
 * @example const priority = lowerThisThread() // 'idle' on Linux with util-linux
 */
export function lowerThisThread(): ThreadPriority {
  let tid: number
  try {
    // /proc/thread-self/status names this thread's id as "Pid".
    tid = Number(/^Pid:\s+(\d+)/m.exec(readFileSync('/proc/thread-self/status', 'utf8'))?.[1])
  } catch {
    return 'unchanged'
  }
  if (!Number.isSafeInteger(tid) || tid <= 0) return 'unchanged'
  try {
    execFileSync('chrt', ['--idle', '--pid', '0', String(tid)], { stdio: 'ignore', timeout: 5000 })
    return 'idle'
  } catch {
    // no chrt, or not permitted: nice 19
  }
  try {
    setPriority(tid, 19)
    return 'nice 19'
  } catch {
    return 'unchanged'
  }
}

let poolStarted = false

/**
 * Makes sure libuv's thread pool exists, started by the calling thread (one asynchronous file
 * system call creates it at once), so that its threads keep this thread's priority rather than
 * inherit a lowered one from a background thread that happened to need it first.
 * @example startThreadPool(); spawnThread(import.meta.url, 'sinks-thread', data)
 */
export function startThreadPool(): void {
  if (poolStarted) return
  poolStarted = true
  access('.', () => {})
}

/**
 * The calling thread's id as Linux knows it (`/proc/thread-self` links to `<pid>/task/<tid>`), or
 * undefined elsewhere. `link`: where to look (tests point it at a path that does not exist).
 */
export function thisThreadId(link = '/proc/thread-self'): number | undefined {
  try {
    const tid = Number(/\/task\/(\d+)$/.exec(readlinkSync(link))?.[1])
    return Number.isSafeInteger(tid) && tid > 0 ? tid : undefined
  } catch {
    return undefined
  }
}

/**
 * Makes the calling thread `by` nicer than it is (Linux: `setpriority` on a thread's id affects that
 * thread alone; raising the nice value needs no privilege, lowering it back would), at most 19.
 * Unlike `lowerThisThread` it is meant for a thread that holds the write lock: a moderate step
 * lets the event loop's thread (same process, same scheduler group) take the core first, yet this
 * thread keeps a share of a busy core by its weight and never starves.
 * `by` 0, another system, or a refusal: the thread is left as it is.
 * @returns the thread's id and the nice value it now has (read back), or undefined when unchanged
 * @example niceThisThread(10) // { tid: 4242, nice: 10 } on Linux, from nice 0
 */
export function niceThisThread(by: number, link?: string): { tid: number; nice: number } | undefined {
  if (!(by > 0)) return undefined
  const tid = thisThreadId(link)
  if (tid === undefined) return undefined
  try {
    setPriority(tid, Math.min(19, getPriority(tid) + by))
    return { tid, nice: getPriority(tid) }
  } catch {
    return undefined
  }
}
