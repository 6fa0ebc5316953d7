/**
 * The bench's arithmetic and its Markdown: the soak's slope, the medians, and a report that shows
 * every round (not only the median), says what was not measured, and marks a smoke run as such.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { PAIRS } from '../../bench/lib/paired.js'
import type { PairedResult, PairedRound } from '../../bench/lib/paired.js'
import { courses, type MemorySample } from '../../bench/lib/memory.js'
import type { Calibration, SoakResult } from '../../bench/lib/paced.js'
import { markdown, type Report } from '../../bench/lib/report.js'
import { median, slope } from '../../bench/lib/stats.js'

describe('bench statistics', () => {
  it('median of an odd and an even number of values, unsorted', () => {
    assert.equal(median([5, 1, 3]), 3)
    assert.equal(median([4, 1, 3, 2]), 2.5)
    assert.ok(Number.isNaN(median([])))
  })

  it('slope recovers the gradient of any straight line, and is NaN without two distinct x', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -1000, max: 1000, noNaN: true }),
        fc.double({ min: -1e6, max: 1e6, noNaN: true }),
        fc.uniqueArray(fc.integer({ min: 0, max: 10_000 }), { minLength: 2, maxLength: 50 }),
        (a, b, xs) => {
          const s = slope(xs.map((x) => ({ x, y: a * x + b })))
          assert.ok(Math.abs(s - a) <= 1e-6 * Math.max(1, Math.abs(a), Math.abs(b)), `slope ${s}, expected ${a}`)
        },
      ),
    )
    assert.ok(Number.isNaN(slope([{ x: 1, y: 2 }])))
    assert.ok(
      Number.isNaN(
        slope([
          { x: 1, y: 2 },
          { x: 1, y: 3 },
        ]),
      ),
    )
  })
})

const side = (rps: number, cpu: number) => ({
  rps,
  cpuUsPerRequest: cpu,
  cpuShare: 0.5,
  p50ms: 1,
  p99ms: 2,
  peakRssMiB: 100,
  non2xx: 0,
  errors: 0,
})

function report(over: Partial<Report> = {}): Report {
  const pair = PAIRS.find((p) => p.id === 'sqlite')!
  const rounds: PairedRound[] = [1, 2, 3].map((round) => ({
    round,
    first: round % 2 === 1 ? pair.a : pair.b,
    a: side(1000 + round * 111, 100 + round),
    b: side(4000 + round * 7, 30),
    rpsRatio: (1000 + round * 111) / (4000 + round * 7),
    cpuRatio: 30 / (100 + round),
    core0Busy: 1,
    load1: 0.5 + round,
  }))
  const result: PairedResult = {
    pair,
    rounds,
    median: { rpsRatio: rounds[1]!.rpsRatio, cpuRatio: rounds[1]!.cpuRatio, decided: rounds[1]!.cpuRatio },
    range: { min: rounds[2]!.cpuRatio, max: rounds[0]!.cpuRatio },
    met: false,
    connections: 100,
    seconds: 10,
  }
  return {
    date: '2026-11-29T18:00:00.000Z',
    machine: {
      cpu: 'Test CPU',
      cores: 2,
      kernel: '6.0',
      node: 'v24.0.0',
      wrk: '4.1.0',
      sqlite: '3.50.0',
      postgres: null,
      commit: 'abc',
      dirty: false,
      autogroup: true,
    },
    load: { start: [0.1, 0.2, 0.3], end: [0.4, 0.5, 0.6] },
    minutes: 3,
    paired: [result],
    p99: [],
    soak: null,
    notMeasured: [],
    quick: false,
    ...over,
  }
}

describe('bench Markdown report', () => {
  it('has a row for every round with both targets’ req/s and CPU, and the median against the target', () => {
    const md = markdown(report())
    for (const round of [1, 2, 3]) {
      const row = md.split('\n').find((l) => l.startsWith(`| ${round} | `))
      assert.ok(row, `no row for round ${round}`)
      assert.ok(row.includes((1000 + round * 111).toLocaleString('en')), row)
      assert.ok(row.includes(String(100 + round) + '.0'), row)
    }
    assert.match(md, /\| server-sqlite ÷ limit \| .* \| \*\*0\.294\*\* \| 0\.291–0\.297 \| ≥ 0\.5 \| \*\*missed\*\* \|/)
    assert.match(md, /Load average \(1, 5, 15 min\) 0\.1, 0\.2, 0\.3 at the start, 0\.4, 0\.5, 0\.6 at the end/)
    assert.doesNotMatch(md, /Smoke test/)
  })

  it('marks a --quick run as a smoke test and lists what was not measured', () => {
    const md = markdown(report({ quick: true, notMeasured: ['paired pg: set TIMHOOK_BENCH_PG_URL'] }))
    assert.match(md, /^\*\*Smoke test/)
    assert.match(md, /- paired pg: set TIMHOOK_BENCH_PG_URL/)
  })

  it('a soak: the rate held against the aim, each part’s start, end, highest and slope, and the samples by part', () => {
    const samples: MemorySample[] = Array.from({ length: 121 }, (_, i) => {
      const rss = i < 20 ? 200 : 360
      return {
        s: i * 5,
        rss,
        anon: rss - 60,
        file: 60,
        shmem: 0.1,
        heapTotal: rss - 120,
        heapUsed: 50,
        live: 33,
        external: 15,
        native: 45,
        children: 20,
        heaps: { main: rss - 150 },
      }
    })
    const calibration: Calibration = {
      maxRps: 6500,
      maxConnections: 100,
      maxCpuShare: 0.99,
      targetRps: 5200,
      connections: 27,
      delayMs: 2,
      trials: [],
      held: { rps: 5100, cpuShare: 0.79 },
      holds: true,
    }
    const soak: SoakResult = {
      target: 'server-sqlite',
      minutes: 10,
      calibration,
      rps: 4680,
      cpuShare: 0.81,
      p50ms: 1,
      p99ms: 9,
      non2xx: 0,
      errors: 0,
      cpuUsPerRequest: 170,
      samples,
      sampleSeconds: 5,
      startMiB: 200,
      endMiB: 360,
      slopeMiBPerMin: 0,
      fitMinutes: 8,
      parts: courses(samples, 120),
      settledS: 100,
      files: { db: 700, wal: 4, shm: 0.03 },
      load: { start: [0.1], end: [0.2] },
    }
    const md = markdown(report({ soak }))
    assert.match(md, /4,680 req\/s held \(\*\*90 % of the aim\*\*, 81 % of the core\)/)
    assert.match(
      md,
      /maximum 6,500 req\/s with 100 connections unpaced, using 99 % of the core → aim 80 % of that rate, 5,200 req\/s: 27 connections, 2 ms pause after each answer, held 5,100 req\/s in calibration \(98 % of the aim, 79 % of the core\)\): /,
    )
    const short = markdown(
      report({
        soak: {
          ...soak,
          calibration: {
            ...calibration,
            held: { rps: 4000, cpuShare: 1 },
            holds: false,
            trials: [{ connections: 27, rps: 4000, cpuShare: 1 }],
          },
        },
      }),
    )
    assert.match(
      short,
      /held 4,000 req\/s in calibration \(77 % of the aim, 100 % of the core\), \*\*not within 5 % of the aim\*\*: the closest of 1 counts tried/,
    )
    assert.match(md, /\*\*RSS start 200\.0 MiB, end 360\.0 MiB, slope 0\.00 MiB\/min\*\*/)
    assert.match(md, /within ±8 MiB of its end from 100 s on/)
    assert.match(md, /\| \*\*RSS\*\* \| 200\.0 \| 360\.0 \| 360\.0 \| 360\.0 \| 0\.00 \|/)
    assert.match(md, /\| live heap after the latest full GC, all threads \| 33\.0 \| 33\.0 \| 33\.0 \| 33\.0 \| 0\.00 \|/)
    const rssRow = md.split('\n').find((l) => l.startsWith('| RSS |'))!
    assert.ok(rssRow.startsWith('| RSS | 200 |') && rssRow.endsWith(' 360 |'), rssRow)
    assert.match(md, /\| main thread heap \| 50 \|/)
    assert.match(md, /\| child processes \| 20 \|/)
    assert.match(md, /\| child processes \(readers, sinks\): RSS, all of them \| 20\.0 \|/)
  })
})
