/**
 * Rows the store stored later than they were received, in the log: SQLite keeps `received_at`
 * non-decreasing with `id`, so once the clock has run ahead and been set back, every row is stored
 * at the time it ran ahead to until real time catches up. With several processes writing one file,
 * rows that waited to commit behind another's newer rows are moved the same way. That is said, at
 * most once a minute.
 */
import type { Logger } from '../receiver/index.js'
import type { Store } from '../store/store.js'

/** The shortest time between two warnings about rows stored later than received. */
export const STAMP_SHIFT_WARNING_MS = 60_000

/**
 * Logs a warning when a commit stored rows later than received (StampShift): at once for the first
 * such commit, then at most once per STAMP_SHIFT_WARNING_MS while it goes on, each line with the
 * rows since the previous one and the largest shift among them. The metric
 * `timhook_store_rows_stamped_forward_total` counts every one.
 */
export function watchStampShift(store: Pick<Store, 'onCommit'>, logger: Pick<Logger, 'warn'>): void {
  let quietUntil = -Infinity
  let rows = 0
  let maxShiftMs = 0
  store.onCommit((r) => {
    const shift = r.stampShift
    if (shift === undefined) return
    rows += shift.rows
    maxShiftMs = Math.max(maxShiftMs, shift.maxShiftMs)
    const now = Date.now()
    if (now < quietUntil) return
    quietUntil = now + STAMP_SHIFT_WARNING_MS
    logger.warn(
      { rows, maxShiftMs },
      `the store saved ${rows} rows with a received_at later than they were received (by up to ${(maxShiftMs / 1000).toFixed(1)} s): ` +
        'the clock was set back after running ahead (rows keep the latest time stored until it catches up), or, with ' +
        'several instances writing one file, rows waited that long to commit behind newer ones of another ' +
        `(received_at never decreases as rows are added; at most one such line every ${STAMP_SHIFT_WARNING_MS / 1000} s)`,
    )
    rows = 0
    maxShiftMs = 0
  })
}
