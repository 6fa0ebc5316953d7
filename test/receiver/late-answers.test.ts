/**
 * Every request gets exactly one answer, whatever its listeners and acknowledgements do: throw
 * synchronously, reject with something that is not an Error, call back twice or both ways, have a
 * `then` that throws, or fulfil with themselves — and when reporting the answer itself throws (the
 * clock read for `onAnswer`'s duration, here), the answer goes out as decided, the failure logged, on
 * every path: at once, through a promise, through callbacks, and at the deadline.
 */
import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import fc from 'fast-check'
import { createReceiver, type Receiver, type ReceiverResponse } from '../../src/receiver/index.js'
import { APP, answerOf, groupRecall, query } from '../helpers/callbacks.js'

const turn = () => new Promise<void>((resolve) => setImmediate(resolve))

function request() {
  const body = groupRecall()
  return { query: query(body.CallbackCommand), body: JSON.stringify(body) }
}

interface Logged {
  level: 'warn' | 'error'
  msg: string
}

function receiver(extra: { deadlineMs?: number } = {}): { r: Receiver; logged: Logged[] } {
  const logged: Logged[] = []
  const quiet = () => {}
  const r = createReceiver({
    sdkAppId: APP,
    ...extra,
    logger: {
      debug: quiet,
      info: quiet,
      warn: (_f: unknown, msg?: string) => void logged.push({ level: 'warn', msg: String(msg) }),
      error: (_f: unknown, msg?: string) => void logged.push({ level: 'error', msg: String(msg) }),
    },
  })
  return { r, logged }
}

/**
 * Makes `performance.now()` throw from its `allowed + 1`-th call on: the receiver reads it when a
 * request starts and when it reports the answer to `onAnswer` listeners, so the report throws.
 */
function breakClockAfter(t: TestContext, allowed: number) {
  const real = performance.now.bind(performance)
  const clock = { left: allowed }
  t.mock.method(performance, 'now', () => {
    if (clock.left-- <= 0) throw new Error('the clock is unavailable')
    return real()
  })
  return clock
}

/** A thenable that remembers its callbacks; the test settles it. */
class Manual {
  ok: ((v?: unknown) => void) | undefined
  fail: ((err: unknown) => void) | undefined
  then(ok: (v?: unknown) => void, fail: (err: unknown) => void): void {
    this.ok = ok
    this.fail = fail
  }
}

/** The answer is the one decided (`status`), and the failed report is logged. */
function assertUnreported(res: ReceiverResponse | undefined, status: number, logged: Logged[]) {
  assert.equal(res?.status, status)
  if (status === 200) assert.equal(answerOf(res!).ErrorInfo, '')
  else assert.match(answerOf(res!).ErrorInfo, /^TIMHOOK_ACK_FAILED: /)
  assert.ok(
    logged.some((l) => l.level === 'error' && l.msg === 'reporting the answer threw'),
    `logged: ${JSON.stringify(logged)}`,
  )
}

describe('when reporting the answer throws, the decided answer still goes out', () => {
  it('a callback acknowledgement: done is called once with the 200; the thenable that called back sees no exception', (t) => {
    const { r, logged } = receiver()
    let m!: Manual
    r.onAny(() => (m = new Manual()), { acknowledge: true })
    r.onAnswer(() => {})
    const answers: ReceiverResponse[] = []
    const clock = breakClockAfter(t, Infinity)
    assert.equal(
      r.handleWith(request(), (res) => answers.push(res)),
      undefined,
    )
    clock.left = 0
    assert.doesNotThrow(() => m.ok!())
    assert.equal(answers.length, 1)
    assertUnreported(answers[0], 200, logged)
  })

  it('a failed callback acknowledgement through handle(): the promise resolves to the 503', async (t) => {
    const { r, logged } = receiver()
    let m!: Manual
    r.onAny(() => (m = new Manual()), { acknowledge: true })
    r.onAnswer(() => {})
    const clock = breakClockAfter(t, Infinity)
    const answer = r.handle(request())
    clock.left = 0
    assert.doesNotThrow(() => m.fail!(new Error('disk full')))
    assertUnreported(await answer, 503, logged)
  })

  it('a callback acknowledgement at the deadline: the shared timer answers the 503 and does not throw', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] })
    const { r, logged } = receiver({ deadlineMs: 100 })
    r.onAny(() => new Manual(), { acknowledge: true })
    r.onAnswer(() => {})
    const answers: ReceiverResponse[] = []
    const clock = breakClockAfter(t, Infinity)
    r.handleWith(request(), (res) => answers.push(res))
    await turn()
    clock.left = 0
    assert.doesNotThrow(() => t.mock.timers.tick(100))
    assert.equal(answers.length, 1)
    assertUnreported(answers[0], 503, logged)
  })

  it('a promise acknowledgement through handle(): resolves to the 200, never rejects', async (t) => {
    const { r, logged } = receiver()
    let release!: () => void
    r.onAny(() => new Promise<void>((resolve) => (release = resolve)), { acknowledge: true })
    r.onAnswer(() => {})
    const clock = breakClockAfter(t, Infinity)
    const answer = r.handle(request())
    clock.left = 0
    release()
    assertUnreported(await answer, 200, logged)
  })

  it('an answer ready at once: returned as the 200, handle() does not throw', (t) => {
    const { r, logged } = receiver()
    r.onAnswer(() => {})
    breakClockAfter(t, 1)
    assertUnreported(r.handle(request()) as ReceiverResponse, 200, logged)
  })
})

// ---- generated listeners and acknowledgements ----

/** Reasons a listener throws or rejects with: rarely an Error. */
const reasonArb = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.string({ maxLength: 8 }),
  fc.integer(),
  fc.constant(Symbol('why')),
  fc.constant(Object.create(null) as object),
  fc.constant({
    toString() {
      throw new Error('unprintable')
    },
  }),
  fc.string({ maxLength: 8 }).map((m) => new Error(m)),
)

const whenArb = fc.constantFrom('now' as const, 'later' as const)

const ackArb = fc.oneof(
  fc.record({ kind: fc.constant('sync' as const) }),
  fc.record({ kind: fc.constant('throw' as const), reason: reasonArb }),
  fc.record({ kind: fc.constant('promise' as const), when: whenArb, fails: fc.boolean(), reason: reasonArb }),
  fc.record({
    kind: fc.constant('thenable' as const),
    when: whenArb,
    calls: fc.array(fc.constantFrom('ok' as const, 'fail' as const), { minLength: 1, maxLength: 3 }),
    reason: reasonArb,
    thenThrows: fc.constantFrom('no' as const, 'before' as const, 'after' as const),
  }),
  fc.record({ kind: fc.constant('inner' as const), when: whenArb, innerFails: fc.boolean(), reason: reasonArb }),
  fc.record({ kind: fc.constant('self' as const), when: whenArb }),
)
type Ack = typeof ackArb extends fc.Arbitrary<infer T> ? T : never

const listenerArb = fc.oneof(
  fc.record({ kind: fc.constant('ok' as const) }),
  fc.record({ kind: fc.constant('throw' as const), reason: reasonArb }),
  fc.record({ kind: fc.constant('rejects' as const), when: whenArb, reason: reasonArb }),
)
type Listener = typeof listenerArb extends fc.Arbitrary<infer T> ? T : never

/** Whether this acknowledgement fails (the answer is then a 503). */
function ackFails(a: Ack): boolean {
  switch (a.kind) {
    case 'sync':
      return false
    case 'throw':
    case 'self':
      return true
    case 'promise':
      return a.fails
    case 'thenable':
      // A `then` that throws before calling back fails it; otherwise its first call back counts.
      if (a.thenThrows === 'before' || (a.thenThrows === 'after' && a.when === 'later')) return true
      return a.calls[0] === 'fail'
    case 'inner':
      return a.innerFails
  }
}

/** Builds the listener for `a`; settlements that come later are pushed to `later`. */
function ackListener(a: Ack, later: Array<() => void>): () => unknown {
  return () => {
    switch (a.kind) {
      case 'sync':
        return undefined
      case 'throw':
        throw a.reason
      case 'promise': {
        const p = new Promise<void>((resolve, reject) => {
          const settle = () => (a.fails ? reject(a.reason) : resolve())
          if (a.when === 'now') settle()
          else later.push(settle)
        })
        p.catch(() => {})
        return p
      }
      case 'thenable':
        return {
          then(ok: () => void, fail: (err: unknown) => void) {
            if (a.thenThrows === 'before') throw a.reason
            const callBack = () => {
              for (const c of a.calls)
                if (c === 'ok') ok()
                else fail(a.reason)
            }
            if (a.when === 'now') callBack()
            else later.push(callBack)
            if (a.thenThrows === 'after') throw a.reason
          },
        }
      case 'inner': {
        const inner = new Manual()
        const outer = {
          then(ok: (v: unknown) => void) {
            const go = () => {
              ok(inner)
              later.push(() => (a.innerFails ? inner.fail!(a.reason) : inner.ok!()))
            }
            if (a.when === 'now') go()
            else later.push(go)
          },
        }
        return outer
      }
      case 'self': {
        const self: { then(ok: (v: unknown) => void): void } = {
          then(ok) {
            if (a.when === 'now') ok(self)
            else later.push(() => ok(self))
          },
        }
        return self
      }
    }
  }
}

function plainListener(l: Listener, later: Array<() => void>): () => unknown {
  return () => {
    if (l.kind === 'throw') throw l.reason
    if (l.kind === 'rejects') {
      return new Promise<void>((_resolve, reject) => {
        if (l.when === 'now') reject(l.reason)
        else later.push(() => reject(l.reason))
      })
    }
    return undefined
  }
}

const DEADLINE_MS = 1500

describe('generated listeners and acknowledgements: exactly one answer, with the right status', () => {
  it('holds for handleWith and handle, with and without a failing answer report', async (t) => {
    // The deadline's timer is mocked, so that the end of each run can jump past it: an answer it
    // would give late (a second one) is then counted too.
    t.mock.timers.enable({ apis: ['setTimeout'] })
    const clock = breakClockAfter(t, Infinity)
    await fc.assert(
      fc.asyncProperty(
        fc.array(ackArb, { maxLength: 4 }),
        fc.array(listenerArb, { maxLength: 3 }),
        fc.boolean(),
        fc.constantFrom('handleWith' as const, 'handle' as const),
        fc.boolean(),
        async (acks, listeners, reportThrows, api, reverse) => {
          clock.left = Infinity
          const { r, logged } = receiver({ deadlineMs: DEADLINE_MS })
          const later: Array<() => void> = []
          for (const a of acks) r.onAny(ackListener(a, later), { acknowledge: true })
          for (const l of listeners) r.onAny(plainListener(l, later))
          r.on('Group.CallbackAfterRecallMsg', plainListener({ kind: 'ok' }, later))
          r.onAnswer(() => {})
          // The request's start reads the clock once; a broken report fails every read after it.
          if (reportThrows) clock.left = 1
          const answers: ReceiverResponse[] = []
          let settledPromise: Promise<ReceiverResponse> | undefined
          if (api === 'handleWith') {
            const now = r.handleWith(request(), (res) => answers.push(res))
            if (now !== undefined) answers.push(now)
          } else {
            const res = r.handle(request())
            if (res instanceof Promise) settledPromise = res
            else answers.push(res)
          }
          // Settle everything left (in either order), then keep turning until nothing more happens.
          while (later.length > 0) {
            const batch = later.splice(0)
            if (reverse) batch.reverse()
            for (const settle of batch) assert.doesNotThrow(settle)
            await turn()
          }
          // Everything has settled, so the answer is given; past the deadline nothing more may come.
          t.mock.timers.tick(DEADLINE_MS)
          await turn()
          if (settledPromise !== undefined) answers.push(await settledPromise)
          assert.equal(answers.length, 1, 'exactly one answer')
          const expected = acks.some(ackFails) ? 503 : 200
          if (reportThrows) assertUnreported(answers[0], expected, logged)
          else {
            assert.equal(answers[0]!.status, expected)
            const info = answerOf(answers[0]!).ErrorInfo
            if (expected === 503) assert.match(info, /^TIMHOOK_ACK_FAILED: /)
            else assert.equal(info, '')
          }
        },
      ),
      { numRuns: 300 },
    )
  })
})
