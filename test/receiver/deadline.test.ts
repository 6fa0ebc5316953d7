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
const post = (r: ReturnType<typeof createReceiver>, body: Record<string, unknown>) =>
  r.handle({ query: query(String(body.CallbackCommand)), body: JSON.stringify(body) })

describe('deadline and fallback', () => {
  it('a hanging decision yields the fallback verdict within deadlineMs + 100 ms', async () => {
    const { r, errors, fallbacks } = setup({ deadlineMs: 200 })
    r.on('Group.CallbackBeforeSendMsg', () => new Promise(() => {}))
    const started = performance.now()
    const res = await post(r, groupBeforeSend())
    const elapsed = performance.now() - started
    assert.ok(elapsed >= 190 && elapsed < 300, `answered after ${elapsed.toFixed(0)} ms`)
    assert.deepEqual(answerOf(res), { ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '' })
    assert.equal(errors[0]?.code, 'TIMHOOK_DEADLINE_EXCEEDED')
    assert.deepEqual(fallbacks, [true])
  })

  it('the default budget is 1500 ms', async () => {
    const { r } = setup()
    r.on('C2C.CallbackBeforeSendMsg', () => new Promise(() => {}))
    const started = performance.now()
    await post(r, c2cBeforeSend())
    const elapsed = performance.now() - started
    assert.ok(elapsed >= 1490 && elapsed < 1600, `answered after ${elapsed.toFixed(0)} ms`)
  })

  it('a configured fallback verdict is sent when late', async () => {
    const { r } = setup({ deadlineMs: 50, onDeadline: verdict.deny() })
    r.on('Group.CallbackBeforeSendMsg', async () => {
      await new Promise((resolve) => setTimeout(resolve, 500))
      return verdict.allow()
    })
    assert.equal(answerOf(await post(r, groupBeforeSend())).ErrorCode, 1)
  })

  it('a decision that throws, synchronously or not, yields the fallback verdict at once', async () => {
    for (const fail of [() => { throw new Error('boom') }, async () => { throw new Error('boom') }]) {
      const { r, errors, fallbacks } = setup({ deadlineMs: 1000, onDeadline: verdict.drop() })
      r.on('Group.CallbackBeforeSendMsg', fail as () => never)
      const started = performance.now()
      const res = await post(r, groupBeforeSend())
      assert.ok(performance.now() - started < 1000, 'did not wait for the 1000 ms budget')
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

  it('a late decision that rejects afterwards causes no unhandled rejection', async () => {
    const { r } = setup({ deadlineMs: 20 })
    let unhandled = 0
    const onUnhandled = () => void unhandled++
    process.on('unhandledRejection', onUnhandled)
    r.on('Group.CallbackBeforeSendMsg', () => new Promise((_, reject) => setTimeout(() => reject(new Error('late')), 60)))
    await post(r, groupBeforeSend())
    await new Promise((resolve) => setTimeout(resolve, 100))
    process.off('unhandledRejection', onUnhandled)
    assert.equal(unhandled, 0)
  })
})
