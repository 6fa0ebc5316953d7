/**
 * The soak's memory by part (bench/lib/memory.ts) and the probe preloaded into a target
 * (bench/lib/memory-probe.mjs): each part's course, when RSS settled, and a probe that reports
 * every thread of a process, workers included.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { courses, descendants, PARTS, rssParts, sampleMemory, settledAt, threadMemory, type MemorySample } from '../../bench/lib/memory.js'
import { MEMORY_PROBE, target, targetEnv } from '../../bench/lib/targets.js'

const sample = (s: number, rss: number, over: Partial<MemorySample> = {}): MemorySample => ({
  s,
  rss,
  anon: rss - 50,
  file: 50,
  shmem: 0,
  heapTotal: rss / 2,
  heapUsed: rss / 4,
  live: 30,
  external: 10,
  native: rss - 50 - rss / 2 - 10,
  heaps: { main: rss / 2 },
  children: 40,
  ...over,
})

describe('soak memory parts', () => {
  it('a step in the warm-up then a flat line: the fit window sees no slope, the course shows the step, settled is the step', () => {
    const samples = Array.from({ length: 121 }, (_, i) => sample(i * 5, i * 5 < 100 ? 200 : 360))
    const c = courses(samples, 120)
    assert.equal(c.rss.start, 200)
    assert.equal(c.rss.fitStart, 360)
    assert.equal(c.rss.end, 360)
    assert.equal(c.rss.max, 360)
    assert.equal(c.rss.slopeMiBPerMin, 0)
    assert.equal(c.live.slopeMiBPerMin, 0)
    assert.equal(settledAt(samples, 8), 100)
  })

  it('the slope of every part is the gradient of a line in it, in MiB per minute', () => {
    fc.assert(
      fc.property(fc.double({ min: -50, max: 50, noNaN: true }), fc.integer({ min: 0, max: 300 }), (perMin, from) => {
        const samples = Array.from({ length: 100 }, (_, i) => sample(i * 6, 300 + (perMin * i * 6) / 60))
        const c = courses(samples, from)
        for (const part of ['rss', 'anon', 'heapTotal'] as const) {
          const expected = part === 'heapTotal' ? perMin / 2 : perMin
          assert.ok(
            Math.abs(c[part].slopeMiBPerMin - expected) < 1e-6 * Math.max(1, Math.abs(perMin)),
            `${part}: ${c[part].slopeMiBPerMin} vs ${expected}`,
          )
        }
        assert.equal(c.file.slopeMiBPerMin, 0)
      }),
    )
  })

  it('a part with no values (no probe) is NaN, not zero', () => {
    const samples = [sample(0, 100, { live: NaN, native: NaN }), sample(5, 100, { live: NaN, native: NaN })]
    const c = courses(samples, 0)
    assert.ok(Number.isNaN(c.live.end) && Number.isNaN(c.native.slopeMiBPerMin))
    assert.equal(c.rss.end, 100)
    assert.deepEqual(Object.keys(c).sort(), [...PARTS].sort())
  })

  it('settledAt: a rise that never stops settles only at the last sample; a flat run at the first', () => {
    const rising = Array.from({ length: 50 }, (_, i) => ({ s: i, rss: 100 + i * 2 }))
    assert.equal(settledAt(rising, 8), 45, 'the last 8 MiB of the rise only')
    const flat = Array.from({ length: 50 }, (_, i) => ({ s: i, rss: 100 + (i % 3) }))
    assert.equal(settledAt(flat, 8), 0)
    assert.ok(Number.isNaN(settledAt([{ s: 0, rss: 1 }], 8)))
  })

  it('reads this process: RSS split into parts that add up, and a probe file of a dead thread is left out', () => {
    const dir = mkdtempSync(join(tmpdir(), 'memory-test-'))
    try {
      const live = {
        thread: 'main',
        threadId: 0,
        at: Date.now(),
        heapTotal: 64 * 2 ** 20,
        heapUsed: 32 * 2 ** 20,
        external: 2 ** 20,
        arrayBuffers: 0,
        afterMajor: null,
        majors: 0,
        heapLimit: 0,
        physical: 0,
        malloced: 0,
        spaces: {},
      }
      writeFileSync(join(dir, `${process.pid}-0.json`), JSON.stringify(live))
      writeFileSync(join(dir, `${process.pid}-7.json`), JSON.stringify({ ...live, thread: 'gone', threadId: 7, at: Date.now() - 60_000 }))
      writeFileSync(join(dir, `1-0.json`), JSON.stringify({ ...live, thread: 'other process' }))
      const k = rssParts(process.pid)
      assert.ok(k.rss > 0 && Math.abs(k.anon + k.file + k.shmem - k.rss) < 1, JSON.stringify(k))
      const m = sampleMemory({ pid: process.pid, s: 1, probeDir: dir })
      assert.deepEqual(Object.keys(m.heaps), ['main'])
      assert.equal(m.heapTotal, 64)
      assert.equal(m.live, 32, 'before a full collection the live heap is heapUsed')
      assert.ok(Math.abs(m.native - (m.anon - 64 - 1)) < 1e-9)
      assert.equal(threadMemory(dir, process.pid).length, 2)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('child processes', () => {
  it('counts the RSS of a child and of its child, and not of this process', async () => {
    // A child that starts a grandchild and, once the grandchild runs (it says so), says both pids
    // and waits for its stdin to close: both are idle when they are measured.
    const code = `
      const { spawn } = require('node:child_process')
      const g = spawn(process.execPath, ['-e', 'process.stdout.write("up"); process.stdin.resume(); process.stdin.on("end", () => process.exit(0))'], { stdio: ['pipe', 'pipe', 'inherit'] })
      g.stdout.once('data', () => process.stdout.write(process.pid + ' ' + g.pid + '\\n'))
      process.stdin.resume()
      process.stdin.on('end', () => { g.stdin.end(); g.on('exit', () => process.exit(0)) })`
    const child = spawn(process.execPath, ['-e', code], { stdio: ['pipe', 'pipe', 'inherit'] })
    try {
      const line = await new Promise<string>((resolve, reject) => {
        child.stdout.once('data', (d: Buffer) => resolve(d.toString()))
        child.once('exit', (code) => reject(new Error(`the child ended (${code}) before naming both pids`)))
      })
      const [c, g] = line.trim().split(' ').map(Number)
      const found = descendants(process.pid)
      assert.ok(found.includes(c!) && found.includes(g!), `${found.join(',')} lacks ${c} or ${g}`)
      assert.ok(!found.includes(process.pid))
      // The two read around the sample: an idle process's RSS may still move a little.
      const before = rssParts(c!).rss + rssParts(g!).rss
      const m = sampleMemory({ pid: process.pid, s: 0 })
      const after = rssParts(c!).rss + rssParts(g!).rss
      assert.ok(m.children >= Math.min(before, after) - 1 && m.children > 10, `${m.children} against ${before}…${after}`)
    } finally {
      child.stdin.end()
      await new Promise((resolve) => child.once('exit', resolve))
    }
  })
})

describe('memory probe', () => {
  it('reports the main thread and each worker, by name, from NODE_OPTIONS as the bench sets it', { timeout: 30_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'memory-probe-'))
    try {
      const env = targetEnv(target('limit'), 1, { memoryProbe: dir })
      assert.ok(env.NODE_OPTIONS?.includes(MEMORY_PROBE))
      // A worker from a file, as serve starts its threads (a preload given by --import does not run in an eval'd worker).
      const workerFile = join(dir, 'worker.mjs')
      writeFileSync(workerFile, 'setInterval(() => {}, 1000)\n')
      // The worker lives until both reports exist; the process then ends by itself.
      const code = `
        const { Worker } = require('node:worker_threads')
        const fs = require('node:fs')
        const w = new Worker(${JSON.stringify(workerFile)}, { name: 'probe-test-thread' })
        const t = setInterval(() => { if (fs.readdirSync(${JSON.stringify(dir)}).filter((n) => n.endsWith('.json')).length >= 2) { clearInterval(t); w.terminate() } }, 20)`
      const child = spawn(process.execPath, ['-e', code], { env, stdio: 'inherit' })
      const exit = await new Promise<number | null>((resolve) => child.once('exit', resolve))
      assert.equal(exit, 0)
      const threads = threadMemory(dir, child.pid!)
      assert.deepEqual(threads.map((t) => t.thread).sort(), ['main', 'probe-test-thread'])
      for (const t of threads) assert.ok(t.heapTotal >= t.heapUsed && t.heapUsed > 0 && t.heapLimit > t.heapTotal, JSON.stringify(t))
      assert.ok(!readdirSync(dir).some((n) => n.endsWith('.tmp')), 'only whole reports')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('does nothing without its variable', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'memory-probe-off-'))
    try {
      const child = spawn(process.execPath, ['--import', MEMORY_PROBE, '-e', ''], {
        env: { ...process.env, TIMHOOK_BENCH_MEMORY_DIR: '' },
        cwd: dir,
      })
      assert.equal(await new Promise((resolve) => child.once('exit', resolve)), 0)
      assert.deepEqual(readdirSync(dir), [])
      assert.ok(existsSync(MEMORY_PROBE))
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
