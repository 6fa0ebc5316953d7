/** A store outage in the log: one line when it starts, one summary per interval with counts, one when it ends — whatever the number of failures. */
import assert from 'node:assert/strict'
import { describe, it, mock } from 'node:test'
import { OUTAGE_SUMMARY_MS, watchStoreOutage } from '../../src/server/store-outage.js'
import type { CommitReport } from '../../src/store/store.js'

function fakes() {
  const lines: Array<{ level: string; obj: Record<string, unknown>; msg?: string }> = []
  const log = (level: string) => (obj: object, msg?: string) => void lines.push({ level, obj: obj as Record<string, unknown>, msg })
  const logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') }
  let listener: (r: CommitReport) => void = () => {}
  const store = {
    pending: 0,
    lastCommitError: undefined as Error | undefined,
    onCommit: (l: (r: CommitReport) => void) => void (listener = l),
  }
  return { lines, logger, store, commit: (r: CommitReport) => listener(r) }
}

const ackFailed = { requestId: 'r', code: 'TIMHOOK_ACK_FAILED', command: 'Group.CallbackAfterSendMsg' }

describe('store outage log', () => {
  it('logs the start, one summary per interval with the counts, and the end with the totals', () => {
    mock.timers.enable({ apis: ['setInterval', 'Date'] })
    try {
      const { lines, logger, store, commit } = fakes()
      const outage = watchStoreOutage(store, logger)
      const down = new Error('connection refused')
      for (let i = 0; i < 500; i++) {
        commit({ size: 3, durationMs: 1, error: down })
        for (let j = 0; j < 3; j++) outage.receiverLogger.error(ackFailed, 'an acknowledging listener failed (connection refused)')
      }
      assert.equal(lines.length, 1)
      assert.match(String(lines[0]!.msg), /store commit failed/)
      mock.timers.tick(OUTAGE_SUMMARY_MS)
      assert.equal(lines.length, 2)
      assert.deepEqual([lines[1]!.obj.failedCommits, lines[1]!.obj.failedCallbacks], [499, 1500])
      mock.timers.tick(OUTAGE_SUMMARY_MS) // nothing failed meanwhile: no line
      assert.equal(lines.length, 2)
      commit({ size: 0, durationMs: 1, error: undefined, probe: true })
      assert.deepEqual(
        [lines[2]!.level, lines[2]!.msg, lines[2]!.obj.failedCallbacks, lines[2]!.obj.failedCommits],
        ['info', 'store commits work again', 1500, 500],
      )
      outage.close()
    } finally {
      mock.timers.reset()
    }
  })

  it('outside an outage, logs the first FAIL answer of each interval and counts the others in the next line', () => {
    mock.timers.enable({ apis: ['setInterval', 'Date'] })
    try {
      const { lines, logger, store } = fakes()
      const outage = watchStoreOutage(store, logger)
      for (let i = 0; i < 100; i++) outage.receiverLogger.error(ackFailed, 'an acknowledging listener failed (TIMHOOK_STORE_BACKLOG: …)')
      assert.equal(lines.length, 1)
      mock.timers.tick(OUTAGE_SUMMARY_MS)
      outage.receiverLogger.error(ackFailed, 'an acknowledging listener failed (did not finish within 1500 ms)')
      assert.equal(lines.length, 2)
      assert.equal(lines[1]!.obj.alsoFailedSinceLastLine, 99)
      outage.receiverLogger.error({ requestId: 'r', code: 'TIMHOOK_HANDLER_FAILED' }, 'another error')
      assert.equal(lines.length, 3, 'other errors are logged as they come')
      outage.close()
    } finally {
      mock.timers.reset()
    }
  })
})
