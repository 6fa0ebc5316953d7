/**
 * A preload for bench targets (`node --import ./bench/lib/memory-probe.mjs`, or through NODE_OPTIONS,
 * which worker threads inherit): every thread of the process — the main thread and each worker —
 * writes its own isolate's memory to `$TIMHOOK_BENCH_MEMORY_DIR/<pid>-<threadId>.json` once a
 * second (the latest only, replaced by rename so a reader never sees half a file). The soak reads
 * them beside /proc/<pid>/smaps_rollup, so a rise of RSS can be put down to a V8 heap, to memory
 * held outside V8 (buffers), or to native memory (SQLite, malloc) by subtraction.
 *
 * Nothing here runs unless the variable is set; the timer is unref'd, so it never keeps a thread alive.
 */
import { renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { constants, PerformanceObserver } from 'node:perf_hooks'
import { setInterval } from 'node:timers'
import v8 from 'node:v8'
import * as wt from 'node:worker_threads'

const dir = process.env.TIMHOOK_BENCH_MEMORY_DIR
if (dir) {
  const name = wt.isMainThread ? 'main' : wt.threadName || `thread-${wt.threadId}`
  const file = join(dir, `${process.pid}-${wt.threadId}.json`)
  const every = Number(process.env.TIMHOOK_BENCH_MEMORY_EVERY_MS || 1000)
  // The live heap: heapUsed just after the latest full (mark-compact) collection, and how many ran.
  let afterMajor = NaN
  let majors = 0
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if (e.detail?.kind !== constants.NODE_PERFORMANCE_GC_MAJOR) continue
      majors++
      afterMajor = v8.getHeapStatistics().used_heap_size
    }
  }).observe({ entryTypes: ['gc'] })
  const write = () => {
    try {
      const h = v8.getHeapStatistics()
      const spaces = {}
      for (const s of v8.getHeapSpaceStatistics()) spaces[s.space_name] = s.space_size
      const u = process.memoryUsage()
      const body = JSON.stringify({
        thread: name,
        threadId: wt.threadId,
        at: Date.now(),
        heapTotal: u.heapTotal,
        heapUsed: u.heapUsed,
        external: u.external,
        arrayBuffers: u.arrayBuffers,
        afterMajor,
        majors,
        heapLimit: h.heap_size_limit,
        physical: h.total_physical_size,
        malloced: h.malloced_memory,
        spaces,
      })
      writeFileSync(file + '.tmp', body)
      renameSync(file + '.tmp', file)
    } catch {
      // the directory went away at the end of a run: nothing to report to
    }
  }
  write()
  setInterval(write, every).unref()
}
