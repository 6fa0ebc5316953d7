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
 * outbox's cursor writes) keeps its priority, or a starved lock holder would stall commits.
 *
 * Threads inherit their creator's policy and nice (Linux keeps both across `clone`): a lowered
 * thread must not be the one that starts another thread which must not be lowered. Hence
 * `startThreadPool`: libuv's pool of four threads (file system, DNS lookups, async crypto — the
 * event loop's as well) is created by whichever thread first needs it, so the thread that spawns
 * a background thread starts the pool first.
 */
import { execFileSync } from 'node:child_process'
import { access, readFileSync } from 'node:fs'
import { setPriority } from 'node:os'

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
