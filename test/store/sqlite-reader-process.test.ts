/**
 * By default the SQLite readers run as child processes started at the lowest priority, so that every
 * thread doing their work — V8's garbage-collection helpers included — gives way to the event loop.
 * A child killed (kill -9) is replaced and the next read works; a child whose parent dies ends by
 * itself; `isolation: 'thread'` keeps the readers in this process. Priorities are read from /proc
 * (Linux only).
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { createStore } from '../../src/store/create-store.js'
import { openSqliteBackend } from '../../src/store/sqlite-backend.js'
import { backgroundLauncher } from '../../src/store/spawn-thread.js'
import { groupSend, record } from './helpers.js'

const LINUX = existsSync('/proc/self/task')
const dir = mkdtempSync(join(tmpdir(), 'timhook-reader-process-'))
after(() => rmSync(dir, { recursive: true, force: true }))
let n = 0
const fresh = () => join(dir, `p${++n}.db`)

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5))
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** Each thread of a process: name, policy (5 = SCHED_IDLE), nice. */
function threadsOf(pid: number): Array<{ name: string; policy: number; nice: number }> {
  return readdirSync(`/proc/${pid}/task`).map((t) => {
    const stat = readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8')
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return { name: readFileSync(`/proc/${pid}/task/${t}/comm`, 'utf8').trim(), nice: Number(f[16]), policy: Number(f[38]) }
  })
}

describe('SQLite readers in a child process', { skip: LINUX ? false : 'Linux only' }, () => {
  it('run every thread of the child at the lowest priority, V8’s helpers included, and none of this process', async () => {
    const backend = openSqliteBackend(fresh(), { readers: 1 })
    const store = createStore(backend)
    try {
      await store.write(record(groupSend('@proc', 1)))
      assert.equal((await store.listMessages({ groupId: '@proc', limit: 10 })).items.length, 1)
      const [pid] = backend.readers.pids
      assert.ok(pid !== undefined && pid !== process.pid, 'a child process of its own')
      const threads = threadsOf(pid)
      // The main thread, V8's platform threads (V8Worker, node-V8Worker or node, by Node version), …
      assert.ok(threads.length >= 4, threads.map((t) => t.name).join(', '))
      const priority = backgroundLauncher().priority
      if (priority === 'idle')
        assert.deepEqual(
          threads.filter((t) => t.policy !== 5),
          [],
        )
      else if (priority === 'nice 19')
        assert.deepEqual(
          threads.filter((t) => t.nice !== 19),
          [],
        )
      // This process keeps its priority: no thread of it is lowered by the readers.
      assert.deepEqual(
        threadsOf(process.pid).filter((t) => t.policy === 5),
        [],
      )
    } finally {
      await store.close()
    }
  })

  it('answer a read that waited for the child to start only after saying it is ready (it is idle once it answered)', async () => {
    const backend = openSqliteBackend(fresh(), { readers: 1 })
    try {
      assert.equal(backend.readers.idle, 0)
      assert.equal((await backend.stats()).messages.total, 0)
      assert.equal(backend.readers.idle, 1)
    } finally {
      await backend.close()
    }
  })

  it('replace a child killed with -9 at once: the read it had fails with the cause, the next read works', async () => {
    const backend = openSqliteBackend(fresh(), { readers: 1, readBudgetMs: 30_000 })
    const store = createStore(backend)
    try {
      await store.write(record(groupSend('@kill', 1)))
      await until(() => backend.readers.idle === 1)
      const [first] = backend.readers.pids
      // A read that stays on the child until it is killed.
      const long = backend.readers.read({
        op: 'messages',
        text: `WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 200000000) SELECT max(x) AS id, '{}' AS body, 0 AS received_at, NULL AS recalled_at, NULL AS recalled_by, NULL AS decision FROM c`,
        params: [],
        limit: 1,
      })
      await until(() => backend.readers.idle === 0)
      process.kill(first!, 'SIGKILL')
      await assert.rejects(long, /SQLite reader process stopped \(exit code 137\)/)
      assert.equal((await store.listMessages({ groupId: '@kill', limit: 10 })).items.length, 1)
      assert.equal(backend.readers.starts, 2)
      assert.notEqual(backend.readers.pids[0], first)
      assert.equal(alive(first!), false)
      // An idle child killed: replaced at once, ready before any read asks for it.
      await until(() => backend.readers.idle === 1)
      const second = backend.readers.pids[0]!
      process.kill(second, 'SIGKILL')
      await until(() => backend.readers.starts === 3 && backend.readers.idle === 1)
      assert.equal(backend.readers.active, 0)
      assert.equal((await backend.stats()).messages.total, 1)
    } finally {
      await store.close()
    }
  })

  it('end by themselves when their parent is killed with -9, and with it on close', async () => {
    const file = fresh()
    openSqliteBackend(file).close()
    const module = new URL('../../src/store/sqlite-backend.ts', import.meta.url).href
    const code = `
import { openSqliteBackend } from ${JSON.stringify(module)}
const backend = openSqliteBackend(${JSON.stringify(file)}, { readers: 2 })
await backend.stats()
console.log(JSON.stringify(backend.readers.pids))
setInterval(() => {}, 1000)
`
    const parent = spawn(process.execPath, ['--import', 'tsx/esm', '--input-type=module', '-e', code], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    const pids = await new Promise<number[]>((resolve, reject) => {
      let out = ''
      parent.stdout.on('data', (c: Buffer) => {
        out += c.toString()
        if (out.includes('\n')) resolve(JSON.parse(out) as number[])
      })
      parent.once('exit', (code) => reject(new Error(`exited ${code}`)))
    })
    assert.equal(pids.length, 2)
    assert.ok(pids.every(alive))
    parent.kill('SIGKILL')
    await until(() => !pids.some(alive))

    const backend = openSqliteBackend(file, { readers: 1 })
    await backend.stats()
    const [pid] = backend.readers.pids
    await backend.close()
    assert.equal(alive(pid!), false)
  })

  it('stay in this process with isolation: thread', async () => {
    const backend = openSqliteBackend(fresh(), { readers: 1, isolation: 'thread' })
    try {
      assert.equal((await backend.stats()).messages.total, 0)
      assert.deepEqual(backend.readers.pids, [])
      // The reader thread lowered itself, here.
      const priority = backgroundLauncher().priority
      if (priority !== 'unchanged') assert.ok(threadsOf(process.pid).some((t) => t.policy === 5 || t.nice === 19))
    } finally {
      await backend.close()
    }
  })
})
