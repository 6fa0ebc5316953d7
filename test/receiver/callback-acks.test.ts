/**
 * Acknowledging listeners that answer with a callback-style thenable (not a native promise), as
 * `timhook serve`'s recorder does: the answer follows their callbacks without a promise chain,
 * through `handleWith` (and `handle`, which wraps it), with the same outcomes as a promise.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createReceiver, type Receiver, type ReceiverResponse } from '../../src/receiver/index.js'
import { APP, answerOf, c2cWithdraw, groupRecall, query } from '../helpers/callbacks.js'

/** A thenable that remembers its callbacks; the test settles it. */
class Manual {
  calls = 0
  ok: (() => void) | undefined
  fail: ((err: unknown) => void) | undefined
  then(ok: () => void, fail: (err: unknown) => void): void {
    this.calls++
    this.ok = ok
    this.fail = fail
  }
}

function request(body: { CallbackCommand: string }) {
  return { query: query(body.CallbackCommand), body: JSON.stringify(body) }
}

/** handleWith's answer: at once (returned) or later (called back once); `late` lists every call back. */
function post(r: Receiver, body: { CallbackCommand: string }) {
  const out = { now: undefined as ReceiverResponse | undefined, late: [] as ReceiverResponse[] }
  out.now = r.handleWith(request(body), (res) => out.late.push(res))
  return out
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve))

describe('acknowledgements through callbacks (thenables other than promises)', () => {
  it('the answer waits for the callback: OK once it succeeds, 503 naming the cause once it fails', async () => {
    const r = createReceiver({ sdkAppId: APP })
    const pending: Manual[] = []
    r.onAny(
      () => {
        const m = new Manual()
        pending.push(m)
        return m
      },
      { acknowledge: true },
    )
    const a = post(r, groupRecall())
    const b = post(r, c2cWithdraw())
    assert.equal(a.now, undefined)
    assert.equal(b.now, undefined)
    assert.deepEqual([pending[0]!.calls, pending[1]!.calls], [1, 1], 'then is called once, at once')
    await turn()
    assert.deepEqual([a.late, b.late], [[], []], 'not answered before the callback')
    pending[0]!.ok!()
    pending[1]!.fail!(new Error('commit failed: disk full'))
    assert.equal(a.late.length, 1)
    assert.deepEqual(answerOf(a.late[0]!), { ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '' })
    assert.equal(b.late.length, 1)
    assert.equal(b.late[0]!.status, 503)
    assert.match(answerOf(b.late[0]!).ErrorInfo, /^TIMHOOK_ACK_FAILED: .*commit failed: disk full/)
    pending[0]!.ok!()
    pending[0]!.fail!(new Error('again'))
    assert.equal(a.late.length, 1, 'a thenable that calls back again changes nothing')
  })

  it('a handleWith callback that throws is logged, and the acknowledgement that called back is unharmed', async () => {
    const logged: string[] = []
    const quiet = () => {}
    const r = createReceiver({
      sdkAppId: APP,
      logger: { debug: quiet, info: quiet, warn: quiet, error: (_fields: unknown, msg?: string) => void logged.push(String(msg)) },
    })
    let m!: Manual
    r.onAny(() => (m = new Manual()), { acknowledge: true })
    const answer = r.handleWith(request(groupRecall()), () => {
      throw new Error('the socket is gone')
    })
    assert.equal(answer, undefined)
    assert.doesNotThrow(() => m.ok!())
    assert.deepEqual(logged, ['the handleWith callback threw'])
  })

  it('handle() gives the same answers as a promise', async () => {
    const r = createReceiver({ sdkAppId: APP })
    let m!: Manual
    r.onAny(() => (m = new Manual()), { acknowledge: true })
    const answer = r.handle(request(groupRecall()))
    assert.ok(answer instanceof Promise)
    m.fail!('refused')
    const res = await answer
    assert.equal(res.status, 503)
    assert.match(answerOf(res).ErrorInfo, /^TIMHOOK_ACK_FAILED: .*\(refused\)/)
  })

  it('a thenable that calls back at once, or whose then throws, is answered at once', () => {
    const r = createReceiver({ sdkAppId: APP })
    let mode: 'ok' | 'fail' | 'throw' = 'ok'
    r.onAny(
      () => ({
        then(ok: () => void, fail: (err: unknown) => void) {
          if (mode === 'ok') ok()
          else if (mode === 'fail') fail(new Error('backlog: too much waits for the store'))
          else throw new Error('then exploded')
        },
      }),
      { acknowledge: true },
    )
    const ok = post(r, groupRecall())
    assert.equal(ok.now?.status, 200)
    mode = 'fail'
    const failed = post(r, groupRecall())
    assert.equal(failed.now?.status, 503)
    assert.match(answerOf(failed.now!).ErrorInfo, /backlog: too much waits for the store/)
    mode = 'throw'
    const threw = post(r, groupRecall())
    assert.equal(threw.now?.status, 503)
    assert.match(answerOf(threw.now!).ErrorInfo, /then exploded/)
    assert.deepEqual([ok.late, failed.late, threw.late], [[], [], []], 'done is not called for an answer returned at once')
  })

  it('a thenable that never calls back gets a 503 at the deadline; its late callback changes nothing', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] })
    const r = createReceiver({ sdkAppId: APP, deadlineMs: 200 })
    let m!: Manual
    r.onAny(() => (m = new Manual()), { acknowledge: true })
    const a = post(r, groupRecall())
    await turn()
    t.mock.timers.tick(199)
    assert.equal(a.late.length, 0)
    t.mock.timers.tick(1)
    assert.equal(a.late.length, 1)
    assert.equal(a.late[0]!.status, 503)
    assert.match(answerOf(a.late[0]!).ErrorInfo, /^TIMHOOK_ACK_FAILED: .*did not finish within 200 ms/)
    m.ok!()
    assert.equal(a.late.length, 1)
  })

  it('beside an async listener and a promise acknowledgement, the answer waits for all three', async () => {
    const r = createReceiver({ sdkAppId: APP })
    let m!: Manual
    let releaseListener!: () => void
    let releaseAck!: () => void
    r.on('Group.CallbackAfterRecallMsg', () => new Promise<void>((resolve) => (releaseListener = resolve)))
    r.onAny(() => (m = new Manual()), { acknowledge: true })
    r.onAny(() => new Promise<void>((resolve) => (releaseAck = resolve)), { acknowledge: true })
    const a = post(r, groupRecall())
    assert.equal(a.now, undefined)
    releaseListener()
    releaseAck()
    await turn()
    assert.equal(a.late.length, 0, 'the callback acknowledgement is still pending')
    m.fail!(new Error('commit failed'))
    await turn()
    assert.equal(a.late.length, 1)
    assert.equal(a.late[0]!.status, 503)
    assert.match(answerOf(a.late[0]!).ErrorInfo, /commit failed/)
  })
})

describe('a thenable fulfilled with another thenable waits for that one, as a promise would', () => {
  for (const [name, inner] of [
    [
      'a promise',
      () => {
        let resolve!: () => void
        let reject!: (err: unknown) => void
        const promise = new Promise<void>((ok, fail) => ((resolve = ok), (reject = fail)))
        return { promise, resolve, reject }
      },
    ],
    [
      'a callback-style thenable',
      () => {
        const m = new Manual()
        return { promise: m, resolve: () => m.ok!(), reject: (err: unknown) => m.fail!(err) }
      },
    ],
  ] as const) {
    it(`inner ${name}: 503 naming the cause when it fails, 200 only once it succeeds`, async () => {
      const r = createReceiver({ sdkAppId: APP })
      const inners: Array<ReturnType<typeof inner>> = []
      r.onAny(
        () => ({
          then: (ok: (v: unknown) => void) => {
            const i = inner()
            inners.push(i)
            ok(i.promise)
          },
        }),
        { acknowledge: true },
      )
      const failing = post(r, groupRecall())
      const passing = post(r, c2cWithdraw())
      await turn()
      assert.deepEqual(
        [failing.now, failing.late, passing.now, passing.late],
        [undefined, [], undefined, []],
        'no answer before the inner one settles',
      )
      inners[0]!.reject(new Error('commit failed: disk full'))
      inners[1]!.resolve()
      for (let i = 0; i < 3 && (failing.late.length === 0 || passing.late.length === 0); i++) await turn()
      assert.equal(failing.late.length, 1)
      assert.equal(failing.late[0]!.status, 503)
      assert.match(answerOf(failing.late[0]!).ErrorInfo, /^TIMHOOK_ACK_FAILED: .*commit failed: disk full/)
      assert.equal(passing.late.length, 1)
      assert.deepEqual(answerOf(passing.late[0]!), { ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '' })
    })
  }
})
