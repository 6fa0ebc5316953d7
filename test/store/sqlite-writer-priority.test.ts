/**
 * The SQLite writer thread's priority (`writerNice`): on Linux the thread makes itself that much
 * nicer than the event loop, alone (the event loop and the other threads keep theirs), and its
 * commits still complete when a thread at the process's priority keeps their shared core busy
 * (a nice value weighs the thread's share of the core, it never takes the share away). Elsewhere,
 * or at 0, nothing changes and nothing fails.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { getPriority, tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { Worker } from 'node:worker_threads'
import fc from 'fast-check'
import { ConfigError, loadConfig } from '../../src/server/config.js'
import { planWrites } from '../../src/store/records.js'
import { openSqliteBackend } from '../../src/store/sqlite-backend.js'
import { openDatabase } from '../../src/store/sqlite-driver.js'
import { niceThisThread, thisThreadId } from '../../src/store/thread-priority.js'
import { groupSend, record } from './helpers.js'

const LINUX = existsSync('/proc/thread-self')
const dir = mkdtempSync(join(tmpdir(), 'timhook-writer-nice-'))
after(() => rmSync(dir, { recursive: true, force: true }))
let n = 0
const fresh = () => join(dir, `n${++n}.db`)
const rowsOf = (msgSeq: number) => planWrites(record(groupSend('writer-nice', msgSeq)))
const messageCount = (file: string) => {
  const db = openDatabase(file, { readOnly: true })
  try {
    return Number((db.prepare('SELECT COUNT(*) AS n FROM messages').get() as { n: number }).n)
  } finally {
    db.close()
  }
}
/** A thread's nice value as /proc shows it (the 19th field of its stat). */
const niceOf = (tid: number) => {
  const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8')
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16])
}
const module = new URL('../../src/store/thread-priority.ts', import.meta.url).href

/** Runs `niceThisThread(by)` in a worker thread of this process (a thread's nice cannot be lowered back without privileges). */
function niceAWorker(by: number): Promise<{ result: { tid: number; nice: number } | null; tid: number | null }> {
  const w = new Worker(
    `const { parentPort } = require('node:worker_threads')
     import(${JSON.stringify(module)}).then(({ niceThisThread, thisThreadId }) => {
       const result = niceThisThread(${by}) ?? null
       parentPort.postMessage({ result, tid: thisThreadId() ?? null })
     })`,
    { eval: true, execArgv: ['--import', 'tsx/esm'] },
  )
  return new Promise((resolve, reject) => {
    w.once('message', (m: { result: { tid: number; nice: number } | null; tid: number | null }) => {
      resolve(m)
      void w.terminate()
    })
    w.once('error', reject)
  })
}

describe('writer thread priority', () => {
  it('takes writerNice from a flag, the environment or a file, 0 by default, and names it when out of 0–19', () => {
    const base = { TIMHOOK_SDK_APP_ID: '1400000000' }
    assert.equal(loadConfig({ env: base }).writerNice, 0)
    assert.equal(loadConfig({ env: { ...base, TIMHOOK_WRITER_NICE: '5' } }).writerNice, 5)
    assert.equal(loadConfig({ env: base, flags: { writerNice: '19' } }).writerNice, 19)
    const yaml = join(dir, 'nice.yaml')
    writeFileSync(yaml, 'sdkAppId: "1400000000"\nwriterNice: 3\n')
    assert.equal(loadConfig({ file: yaml }).writerNice, 3)
    fc.assert(
      fc.property(
        fc.oneof(fc.integer({ min: -100, max: -1 }), fc.integer({ min: 20, max: 1000 }), fc.constantFrom('x', '1.5', '-0.5', 'ten')),
        (v) => {
          assert.throws(
            () => loadConfig({ env: { ...base, TIMHOOK_WRITER_NICE: String(v) } }),
            (err: unknown) => err instanceof ConfigError && /writerNice \(from TIMHOOK_WRITER_NICE\)/.test(err.message),
          )
        },
      ),
    )
  })

  it('leaves the thread as it is at 0, or where there is no /proc/thread-self, without an error', () => {
    assert.equal(niceThisThread(0), undefined)
    assert.equal(thisThreadId('/nonexistent/thread-self'), undefined)
    assert.equal(niceThisThread(5, '/nonexistent/thread-self'), undefined)
  })

  it('gives the writer thread alone the nice value asked; commits go on', { skip: LINUX ? false : 'Linux only' }, async () => {
    const mine = getPriority(0)
    const file = fresh()
    const backend = openSqliteBackend(file, { writerNice: 7 })
    try {
      await backend.writer.ready()
      const p = backend.writer.priority
      assert.ok(typeof p === 'object' && p !== undefined, String(p))
      assert.equal(p.nice, Math.min(19, mine + 7))
      assert.equal(niceOf(p.tid), p.nice)
      // The event loop's thread (its id is the process id) keeps its priority.
      assert.equal(niceOf(process.pid), mine)
      await Promise.all([backend.commit(rowsOf(1)), backend.commit(rowsOf(2))])
      assert.equal(messageCount(file), 2)
    } finally {
      await backend.close()
    }
  })

  it('keeps the writer at the process’s priority at 0 (the default)', { skip: LINUX ? false : 'Linux only' }, async () => {
    const backend = openSqliteBackend(fresh())
    try {
      await backend.writer.ready()
      assert.equal(backend.writer.priority, 'unchanged')
    } finally {
      await backend.close()
    }
  })

  it('a restarted writer thread is made nicer again', { skip: LINUX ? false : 'Linux only' }, async () => {
    const file = fresh()
    const backend = openSqliteBackend(file, { writerNice: 3 })
    try {
      await backend.writer.ready()
      const first = backend.writer.priority as { tid: number; nice: number }
      await backend.writer.thread!.terminate()
      await backend.commit(rowsOf(1))
      await backend.writer.ready()
      const second = backend.writer.priority as { tid: number; nice: number }
      assert.equal(backend.writer.starts, 2)
      assert.notEqual(second.tid, first.tid)
      assert.equal(niceOf(second.tid), first.nice)
      assert.equal(messageCount(file), 1)
    } finally {
      await backend.close()
    }
  })

  it('stops at 19, the highest nice value', { skip: LINUX ? false : 'Linux only' }, async () => {
    const m = await niceAWorker(40)
    assert.ok(m.result !== null && m.tid !== null)
    assert.equal(m.result.tid, m.tid)
    assert.equal(m.result.nice, 19)
  })

  it(
    'commits complete at nice 19 while a thread at the process’s priority keeps their one core busy',
    { skip: LINUX && hasTaskset() ? false : 'Linux with taskset only' },
    () => {
      // In a process of its own on one core: a worker spins at nice 0 for as long as the commits
      // run; the writer at +19 gets a small share of the core by its weight, never none.
      const backendUrl = new URL('../../src/store/sqlite-backend.ts', import.meta.url).href
      const helpersUrl = new URL('./helpers.ts', import.meta.url).href
      const recordsUrl = new URL('../../src/store/records.ts', import.meta.url).href
      const file = fresh()
      const code = `
import { Worker } from 'node:worker_threads'
import { openSqliteBackend } from ${JSON.stringify(backendUrl)}
import { planWrites } from ${JSON.stringify(recordsUrl)}
import { groupSend, record } from ${JSON.stringify(helpersUrl)}
const spins = new Int32Array(new SharedArrayBuffer(8))
const hog = new Worker(\`
  import('node:worker_threads').then(({ workerData }) => {
    const a = new Int32Array(workerData)
    while (Atomics.load(a, 1) === 0) Atomics.add(a, 0, 1)
  })
\`, { eval: true, workerData: spins.buffer })
while (Atomics.load(spins, 0) === 0) await new Promise((r) => setImmediate(r))
const backend = openSqliteBackend(${JSON.stringify(file)}, { writerNice: 19 })
await backend.writer.ready()
const before = Atomics.load(spins, 0)
for (let i = 1; i <= 5; i++) await backend.commit(planWrites(record(groupSend('starve', i))))
const during = Atomics.load(spins, 0) - before
Atomics.store(spins, 1, 1)
await hog.terminate()
const priority = backend.writer.priority
await backend.close()
console.log(JSON.stringify({ during, priority }))
`
      const out = execFileSync('taskset', ['-c', '0', process.execPath, '--import', 'tsx/esm', '--input-type=module', '-e', code], {
        encoding: 'utf8',
        // A blocking call holds the test runner's own timeout off: a starved writer must still end the test.
        timeout: 60_000,
      })
      const r = JSON.parse(out) as { during: number; priority: { tid: number; nice: number } | 'unchanged' }
      assert.ok(typeof r.priority === 'object', JSON.stringify(r))
      assert.equal(r.priority.nice, 19)
      assert.ok(r.during > 0, 'the spinning thread ran while the commits did')
      assert.equal(messageCount(file), 5)
    },
  )
})

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}
