/**
 * Background threads (SQLite readers, the sinks) lower their own priority; nothing else may end up
 * lowered with them — not the event loop, and not libuv's thread pool, which the event loop shares
 * and which a thread would otherwise inherit from whichever thread started it. Linux only (the
 * priorities are read back from /proc).
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { describe, it } from 'node:test'

const LINUX = existsSync('/proc/thread-self/status')

/**
 * Runs, in a fresh process: a worker that lowers itself and then makes the first use of the thread
 * pool (a DNS lookup); `prime` starts the pool from the main thread first. Answers each thread's
 * name, policy (5 = SCHED_IDLE) and nice, read from /proc.
 */
function threadsAfterLowering(prime: boolean): {
  lowered: string
  threads: Array<{ tid: number; name: string; policy: number; nice: number }>
  worker: number
  main: number
} {
  const module = new URL('../../src/store/thread-priority.ts', import.meta.url).href
  const code = `
import { Worker } from 'node:worker_threads'
import { readdirSync, readFileSync } from 'node:fs'
import { startThreadPool } from ${JSON.stringify(module)}
if (${prime}) startThreadPool()
const w = new Worker(\`
  const { parentPort } = require('node:worker_threads')
  import(${JSON.stringify(module)}).then(({ lowerThisThread }) => {
    const lowered = lowerThisThread()
    const tid = Number(/^Pid:\\\\s+(\\\\d+)/m.exec(require('node:fs').readFileSync('/proc/thread-self/status', 'utf8'))[1])
    // Stays alive (the main thread exits the process) so that /proc still shows it.
    setInterval(() => {}, 1000)
    require('node:dns').lookup('localhost', () => parentPort.postMessage({ lowered, tid }))
  })\`, { eval: true, execArgv: ['--import', 'tsx/esm'] })
w.on('message', ({ lowered, tid }) => {
  const threads = readdirSync('/proc/self/task').map((t) => {
    const stat = readFileSync('/proc/self/task/' + t + '/stat', 'utf8')
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return { tid: Number(t), name: readFileSync('/proc/self/task/' + t + '/comm', 'utf8').trim(), nice: Number(f[16]), policy: Number(f[38]) }
  })
  console.log(JSON.stringify({ lowered, worker: tid, main: process.pid, threads }))
  process.exit(0)
})
`
  const out = execFileSync(process.execPath, ['--import', 'tsx/esm', '--input-type=module', '-e', code], { encoding: 'utf8' })
  return JSON.parse(out) as ReturnType<typeof threadsAfterLowering>
}

const isLowered = (t: { policy: number; nice: number }) => t.policy === 5 || t.nice === 19

describe('thread priority', { skip: LINUX ? false : 'Linux only' }, () => {
  it('lowers the calling thread alone: SCHED_IDLE (or nice 19 without chrt); the event loop keeps its priority', () => {
    const r = threadsAfterLowering(true)
    assert.notEqual(r.lowered, 'unchanged')
    const worker = r.threads.find((t) => t.tid === r.worker)!
    assert.ok(isLowered(worker), JSON.stringify(worker))
    assert.equal(r.lowered === 'idle', worker.policy === 5)
    const main = r.threads.find((t) => t.tid === r.main)!
    assert.ok(!isLowered(main), JSON.stringify(main))
  })

  it('keeps libuv’s pool at the process’s priority when the spawning thread started it first', () => {
    const primed = threadsAfterLowering(true)
    const lowered = primed.threads.filter((t) => t.tid !== primed.worker && isLowered(t))
    assert.deepEqual(lowered, [])
    // Without it, the pool's threads are created by the lowered worker and inherit its priority:
    // what startThreadPool (called by spawnThread) prevents.
    const unprimed = threadsAfterLowering(false)
    assert.ok(unprimed.threads.filter((t) => t.tid !== unprimed.worker && isLowered(t)).length >= 1)
  })
})
