/**
 * SQLite stores `received_at` non-decreasing with `id`, so rows received before the newest stored
 * one are stored at its time. When that shift exceeds a second — the clock ran ahead and was set
 * back — the commit says so: the report carries the rows and the largest shift, `/metrics` counts
 * the rows, and the log says why, once per window rather than once per row. The clock is stepped
 * back through the records' own `receivedAt`, as the store takes it from them.
 */
import assert from 'node:assert/strict'
import { describe, it, mock } from 'node:test'
import { createMetrics } from '../../src/server/metrics.js'
import { STAMP_SHIFT_WARNING_MS, watchStampShift } from '../../src/server/stamp-shift.js'
import { planWrites } from '../../src/store/records.js'
import type { CommitReport } from '../../src/store/store.js'
import { freshStore, groupSend, record } from '../store/helpers.js'

const T = 1_800_000_000_000

function captured() {
  const lines: Array<{ obj: Record<string, unknown>; msg: string }> = []
  return {
    lines,
    logger: { warn: (obj: object, msg?: string) => void lines.push({ obj: obj as Record<string, unknown>, msg: String(msg) }) },
  }
}

async function stampedForward(metrics: ReturnType<typeof createMetrics>): Promise<number> {
  const m = (await metrics.registry.getMetricsAsJSON()).find((x) => x.name === 'timhook_store_rows_stamped_forward_total')
  return Number(m?.values[0]?.value ?? 0)
}

describe('rows stored later than received (SQLite)', () => {
  it('a commit reports the rows shifted by more than 1 s and the largest shift; /metrics counts them; the log says why', async () => {
    const t = await freshStore('sqlite')
    try {
      const { store } = t
      const reports: CommitReport[] = []
      store.onCommit((r) => reports.push(r))
      const metrics = createMetrics(store)
      const { lines, logger } = captured()
      watchStampShift(store, logger)
      let seq = 0
      const at = (receivedAt: number) => record(groupSend('@TGS#clock', ++seq), { receivedAt })
      const rowsOf = (r: ReturnType<typeof at>) => planWrites(r).filter((w) => w.kind === 'event' || w.kind === 'message').length

      // The clock ran 10 s ahead, then was set back: one row at the jumped time, then rows at the real time.
      await store.write(at(T + 10_000))
      assert.equal(reports.at(-1)!.stampShift, undefined, 'a row at its own time is not shifted')
      const back = [at(T), at(T + 2_000)]
      const slow = at(T + 9_500) // half a second: a request that took longer, not reported
      await Promise.all([...back, slow].map((r) => store.write(r)))
      const shifted = reports.filter((r) => r.stampShift !== undefined)
      assert.deepEqual(
        shifted.reduce((sum, r) => sum + r.stampShift!.rows, 0),
        back.reduce((sum, r) => sum + rowsOf(r), 0),
      )
      assert.equal(Math.max(...shifted.map((r) => r.stampShift!.maxShiftMs)), 10_000)
      assert.equal(
        await stampedForward(metrics),
        back.reduce((sum, r) => sum + rowsOf(r), 0),
      )
      const page = await store.listEvents({ limit: 10 })
      assert.deepEqual(
        page.items.map((e) => Date.parse(e.receivedAt)),
        [T + 10_000, T + 10_000, T + 10_000, T + 10_000],
        'stored at the newest time, as before',
      )
      assert.equal(lines.length, 1)
      assert.match(lines[0]!.msg, /later than they were received \(by up to 10\.0 s\): the clock was set back after running ahead/)

      // A redelivery of a row stored already stores nothing: nothing shifted.
      const before = reports.length
      await store.write(back[0]!)
      assert.equal(reports.length, before + 1)
      assert.equal(reports.at(-1)!.stampShift, undefined)
    } finally {
      await t.cleanup()
    }
  })

  it('the warning: the first shifted commit at once, then one line per window with the rows since the last', () => {
    mock.timers.enable({ apis: ['Date'], now: T })
    try {
      let listener: (r: CommitReport) => void = () => {}
      const { lines, logger } = captured()
      watchStampShift({ onCommit: (l) => void (listener = l) }, logger)
      const commit = (rows: number, maxShiftMs: number) =>
        listener({ size: rows, durationMs: 1, error: undefined, stampShift: { rows, maxShiftMs } })
      listener({ size: 5, durationMs: 1, error: undefined })
      assert.equal(lines.length, 0, 'nothing shifted, nothing said')
      commit(3, 4_000)
      assert.deepEqual(lines.at(-1)!.obj, { rows: 3, maxShiftMs: 4_000 })
      for (let i = 0; i < 1000; i++) commit(2, 3_000 + i)
      assert.equal(lines.length, 1, 'not a line per commit')
      mock.timers.tick(STAMP_SHIFT_WARNING_MS)
      commit(1, 1_500)
      assert.equal(lines.length, 2)
      assert.deepEqual(lines[1]!.obj, { rows: 2001, maxShiftMs: 3_999 })
    } finally {
      mock.timers.reset()
    }
  })
})
