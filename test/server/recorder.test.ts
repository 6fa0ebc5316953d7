/** The recorder's contract with the receiver: 200 only after commit, FAIL on a failed commit, before-send never waits. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createReceiver } from '../../src/receiver/index.js'
import { attachRecorder } from '../../src/server/attach-recorder.js'
import { createLogger } from '../../src/server/logger.js'
import { createMetrics } from '../../src/server/metrics.js'
import { createStore, type StoreBackend } from '../../src/store/create-store.js'
import type { WriteRow } from '../../src/store/records.js'
import { APP, groupAfterSend, groupBeforeSend } from './helpers.js'

function setup() {
  const state = { failing: false, gate: undefined as Promise<void> | undefined, entered: undefined as (() => void) | undefined }
  const committed: WriteRow[] = []
  const backend: StoreBackend = {
    kind: 'sqlite',
    async commit(rows) {
      state.entered?.()
      await state.gate
      if (state.failing) throw new Error('disk on fire')
      committed.push(...rows)
    },
    listMessages: () => ({ items: [], nextCursor: null }),
    listEvents: () => ({ items: [], nextCursor: null }),
    readBody: () => null,
    stats: () => ({
      events: { total: 0, byCommand: {} },
      decisions: { byVerdict: {}, byRule: {} },
      rejections: { byCause: {} },
      messages: { total: 0, recalled: 0, recallsAwaitingMessage: 0 },
    }),
    ping: () => {},
    close: () => {},
  }
  const store = createStore(backend, { retryDelayMs: 5 })
  const receiver = createReceiver({ sdkAppId: APP })
  attachRecorder(receiver, { store, metrics: createMetrics(store), logger: createLogger('silent') })
  const send = async (body: Record<string, unknown>) =>
    receiver.handle({ method: 'POST', query: { SdkAppid: APP, CallbackCommand: String(body.CallbackCommand) }, body: JSON.stringify(body) })
  return { state, committed, store, send }
}

describe('recorder', () => {
  it('answers an after-callback only after its commit', async () => {
    const { state, committed, send } = setup()
    let open!: () => void
    state.gate = new Promise((r) => (open = r))
    const entered = new Promise<void>((r) => (state.entered = r))
    let answered = false
    const pending = send(groupAfterSend('g', 1)).then((res) => {
      answered = true
      return res
    })
    // The event: the commit has begun (and is held open). Then let every queued callback run.
    await entered
    await new Promise((r) => setImmediate(r))
    assert.equal(answered, false, 'answered before the commit finished')
    open()
    const res = await pending
    assert.equal(res.status, 200)
    assert.ok(committed.some((r) => r.kind === 'message'))
  })

  it('answers 503 FAIL when the commit fails, never a false OK', async () => {
    const { state, send } = setup()
    state.failing = true
    const res = await send(groupAfterSend('g', 2))
    assert.equal(res.status, 503)
    const answer = JSON.parse(res.body) as { ActionStatus: string; ErrorInfo: string }
    assert.equal(answer.ActionStatus, 'FAIL')
    assert.match(answer.ErrorInfo, /TIMHOOK_ACK_FAILED/)
  })

  it('answers a before-send at once while the store fails, and commits its record once the store is back', async () => {
    const { state, committed, store, send } = setup()
    state.failing = true
    const res = await send(groupBeforeSend('g', 42))
    assert.equal(res.status, 200)
    assert.equal(JSON.parse(res.body).ErrorCode, 0)
    state.failing = false
    await store.flush()
    for (let i = 0; i < 100 && !committed.some((r) => r.kind === 'event'); i++) await new Promise((r) => setTimeout(r, 10))
    assert.ok(committed.some((r) => r.kind === 'event' && r.command === 'Group.CallbackBeforeSendMsg'))
  })
})
