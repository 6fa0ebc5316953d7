import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createReceiver } from '../../src/receiver/index.js'
import type { TimhookError } from '../../src/protocol/errors.js'
import { verdict } from '../../src/protocol/verdict.js'
import { APP, answerOf, c2cBeforeSend, groupBeforeSend, query } from '../helpers/callbacks.js'

function setup(options: { deadlineMs?: number; onDeadline?: ReturnType<typeof verdict.allow> } = {}) {
  const errors: TimhookError[] = []
  const r = createReceiver({ sdkAppId: APP, ...options })
  r.onError((e) => errors.push(e))
  const fallbacks: boolean[] = []
  r.onAnswer((o) => fallbacks.push(o.fallback))
  return { r, errors, fallbacks }
}
const post = async (r: ReturnType<typeof createReceiver>, body: Record<string, unknown>) =>
  r.handle({ query: query(String(body.CallbackCommand)), body: JSON.stringify(body) })

/** Lets every queued promise callback run (mock timers do not fire without tick()). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve))

/** Starts a request and reports whether it has been answered yet. */
function track<T>(pending: Promise<T>) {
  const state = { answered: false, value: undefined as T | undefined }
  void pending.then((v) => {
    state.answered = true
    state.value = v
  })
  return state
}

describe('deadline and fallback', () => {
  it('a hanging decision yields the fallback verdict exactly at deadlineMs, not before', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] })
    const { r, errors, fallbacks } = setup({ deadlineMs: 200 })
    r.on('Group.CallbackBeforeSendMsg', () => new Promise(() => {}))
    const res = track(post(r, groupBeforeSend()))
    await settle()
    t.mock.timers.tick(199)
    await settle()
    assert.equal(res.answered, false, 'answered before the deadline')
    t.mock.timers.tick(1)
    await settle()
    assert.equal(res.answered, true, 'not answered at the deadline')
    assert.deepEqual(answerOf(res.value!), { ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '' })
    assert.equal(errors[0]?.code, 'TIMHOOK_DEADLINE_EXCEEDED')
    assert.deepEqual(fallbacks, [true])
  })

  it('the default budget is 1500 ms', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] })
    const { r } = setup()
    r.on('C2C.CallbackBeforeSendMsg', () => new Promise(() => {}))
    const res = track(post(r, c2cBeforeSend()))
    await settle()
    t.mock.timers.tick(1499)
    await settle()
    assert.equal(res.answered, false, 'answered before 1500 ms')
    t.mock.timers.tick(1)
    await settle()
    assert.equal(res.answered, true, 'not answered at 1500 ms')
  })

  it('a configured fallback verdict is sent when late', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] })
    const { r } = setup({ deadlineMs: 50, onDeadline: verdict.deny() })
    r.on('Group.CallbackBeforeSendMsg', async () => {
      await new Promise((resolve) => setTimeout(resolve, 500))
      return verdict.allow()
    })
    const res = track(post(r, groupBeforeSend()))
    await settle()
    t.mock.timers.tick(50)
    await settle()
    assert.equal(res.answered, true)
    assert.equal(answerOf(res.value!).ErrorCode, 1)
    t.mock.timers.tick(450) // the late decision finishes; the answer stays the fallback
  })

  it('a decision that throws, synchronously or not, yields the fallback verdict at once', async (t) => {
    // With the clock stopped, an answer that waited for the 1000 ms budget would never come.
    t.mock.timers.enable({ apis: ['setTimeout'] })
    for (const fail of [
      () => {
        throw new Error('boom')
      },
      async () => {
        throw new Error('boom')
      },
    ]) {
      const { r, errors, fallbacks } = setup({ deadlineMs: 1000, onDeadline: verdict.drop() })
      r.on('Group.CallbackBeforeSendMsg', fail as () => never)
      const tracked = track(post(r, groupBeforeSend()))
      await settle()
      assert.equal(tracked.answered, true, 'did not wait for the 1000 ms budget')
      const res = tracked.value!
      assert.equal(answerOf(res).ErrorCode, 2)
      assert.equal(errors[0]?.code, 'TIMHOOK_HANDLER_FAILED')
      assert.match(errors[0]!.message, /boom/)
      assert.deepEqual(fallbacks, [true])
    }
  })

  it('a handler that returns no verdict, or a code out of the command range, gets the fallback and an error saying why', async () => {
    const { r, errors } = setup()
    r.on('Group.CallbackBeforeSendMsg', (() => undefined) as never)
    r.on('C2C.CallbackBeforeSendMsg', () => verdict.deny({ code: 10150 }))
    assert.equal(answerOf(await post(r, groupBeforeSend())).ErrorCode, 0)
    assert.match(errors[0]!.message, /forget to return/)
    assert.equal(answerOf(await post(r, c2cBeforeSend())).ErrorCode, 0, 'a group code is never sent for a one-to-one message')
    assert.equal(errors[1]?.code, 'TIMHOOK_VERDICT_INVALID')
    assert.match(errors[1]!.message, /120001–130000/)
  })

  it('a late decision that rejects afterwards causes no unhandled rejection', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] })
    const { r } = setup({ deadlineMs: 20 })
    let unhandled = 0
    const onUnhandled = () => void unhandled++
    process.on('unhandledRejection', onUnhandled)
    let rejected = false
    r.on(
      'Group.CallbackBeforeSendMsg',
      () => new Promise((_, reject) => setTimeout(() => ((rejected = true), reject(new Error('late'))), 60)),
    )
    const res = track(post(r, groupBeforeSend()))
    await settle()
    t.mock.timers.tick(20)
    await settle()
    assert.equal(res.answered, true, 'answered at the deadline')
    t.mock.timers.tick(40)
    assert.equal(rejected, true, 'the late decision rejected')
    // An unhandled rejection is reported after the microtask queue drains: give it two turns.
    await settle()
    await settle()
    process.off('unhandledRejection', onUnhandled)
    assert.equal(unhandled, 0)
  })
})
