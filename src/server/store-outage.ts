/**
 * A store outage in the log as a few lines, not a line per failed commit or callback; and the
 * receiver's logger that counts the after-callbacks answered FAIL because of the store.
 */
import type { Logger } from '../receiver/index.js'
import type { Store } from '../store/store.js'

/** How often a store outage is summed up in the log. */
export const OUTAGE_SUMMARY_MS = 10_000

/**
 * Logs a store outage as one line when it starts, one summary line per interval while it lasts
 * (failed commits, callbacks answered FAIL), and one when commits work again — not a line per
 * failed callback. Also gives the receiver a logger that counts, instead of logging one by one,
 * the after-callbacks answered FAIL because of the store.
 */
export function watchStoreOutage(store: Pick<Store, 'onCommit' | 'pending' | 'lastCommitError'>, logger: Logger) {
  let failing = false
  let since = 0
  let commits = 0
  let callbacks = 0
  let totalCommits = 0
  let totalCallbacks = 0
  let lastError = ''
  let timer: NodeJS.Timeout | undefined
  const summary = () => {
    if (commits === 0 && callbacks === 0) return
    logger.error(
      { failedCommits: commits, failedCallbacks: callbacks, pending: store.pending, err: lastError },
      `store commits still failing: ${commits} failed commits, ${callbacks} after-callbacks answered FAIL in the last ${OUTAGE_SUMMARY_MS / 1000} s`,
    )
    commits = 0
    callbacks = 0
  }
  store.onCommit((r) => {
    if (r.refused !== undefined) return
    if (r.error !== undefined) {
      lastError = String(r.error instanceof Error ? r.error.message : r.error)
      if (!failing) {
        failing = true
        since = Date.now()
        logger.error(
          { err: lastError, records: r.size },
          'store commit failed; after-callbacks are answered FAIL until a commit succeeds (summed up every 10 s)',
        )
        timer = setInterval(summary, OUTAGE_SUMMARY_MS)
        timer.unref()
      } else if (!r.probe) commits++
      if (!r.probe) totalCommits++
      return
    }
    if (failing) {
      failing = false
      clearInterval(timer)
      logger.info(
        { failedCommits: totalCommits, failedCallbacks: totalCallbacks, outageMs: Date.now() - since },
        'store commits work again',
      )
      commits = callbacks = totalCommits = totalCallbacks = 0
    }
  })
  // An after-callback answered FAIL (`TIMHOOK_ACK_FAILED`): in `timhook serve` the only
  // acknowledging listener is the recorder, so it is the store's doing — a failed commit, a full
  // backlog, a commit slower than the deadline. While commits fail those are in the outage
  // summary; otherwise the first of each interval is logged and the rest summed up with it.
  let loggedAt = -Infinity
  let unlogged = 0
  const receiverLogger: Logger = {
    debug: (obj, msg) => logger.debug(obj, msg),
    info: (obj, msg) => logger.info(obj, msg),
    warn: (obj, msg) => logger.warn(obj, msg),
    error: (obj, msg) => {
      if ((obj as { code?: unknown }).code !== 'TIMHOOK_ACK_FAILED') return void logger.error(obj, msg)
      callbacks++
      totalCallbacks++
      if (failing) return
      const now = Date.now()
      if (now - loggedAt < OUTAGE_SUMMARY_MS) {
        unlogged++
        return
      }
      loggedAt = now
      logger.error(unlogged > 0 ? { ...obj, alsoFailedSinceLastLine: unlogged } : obj, msg)
      unlogged = 0
    },
  }
  return { receiverLogger, close: () => clearInterval(timer) }
}
