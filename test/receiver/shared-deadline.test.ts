import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createReceiver } from '../../src/receiver/index.js'
import type { ReceiverResponse } from '../../src/receiver/index.js'
import { APP, answerOf, groupRecall, query } from '../helpers/callbacks.js'

/** Lets every queued promise callback and immediate run (mock timers do not fire without tick()). */
/** Read through a call: an answer arrives later, whatever TypeScript narrowed it to. */
const statusOf = (o: { answer: ReceiverResponse | undefined }) => o.answer?.status

const turn = () => new Promise<void>((resolve) => setImmediate(resolve))

function setup() {
  const r = createReceiver({ sdkAppId: APP, deadlineMs: 200 })
  const acks: Array<{ resolve: () => void; reject: (e: Error) => void }> = []
  r.onAny(() => new Promise<void>((resolve, reject) => acks.push({ resolve, reject })), { acknowledge: true })
  const post = () => {
    const body = groupRecall()
    const out = { answer: undefined as ReceiverResponse | undefined }
    void Promise.resolve(r.handle({ query: query(body.CallbackCommand), body: JSON.stringify(body) })).then((a) => (out.answer = a))
    return out
  }
  return { r, acks, post }
}

describe('deadlines of acknowledging listeners (one timer per turn of the event loop)', () => {
  it('requests of one turn are answered FAIL together at the deadline; a later turn keeps its own, full deadline', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] })
    const { post } = setup()
    const first = [post(), post(), post()]
    await turn()
    t.mock.timers.tick(100)
    const later = post()
    await turn()
    t.mock.timers.tick(99)
    await turn()
    assert.deepEqual(
      first.map((f) => f.answer),
      [undefined, undefined, undefined],
      'answered before the deadline',
    )
    t.mock.timers.tick(1)
    await turn()
    for (const f of first) {
      assert.equal(statusOf(f), 503)
      assert.match(answerOf(f.answer!).ErrorInfo, /TIMHOOK_ACK_FAILED.*did not finish within 200 ms/)
    }
    assert.equal(later.answer, undefined, 'the later request was answered before its own deadline')
    t.mock.timers.tick(100)
    await turn()
    assert.equal(statusOf(later), 503)
  })

  it('a member settled in time is answered by its own outcome; only the unsettled ones are late', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] })
    const { post, acks } = setup()
    const [ok, failed, late] = [post(), post(), post()]
    await turn()
    acks[0]!.resolve()
    acks[1]!.reject(new Error('disk on fire'))
    await turn()
    assert.equal(statusOf(ok), 200)
    assert.equal(statusOf(failed), 503)
    assert.match(answerOf(failed.answer!).ErrorInfo, /disk on fire/)
    assert.equal(late.answer, undefined)
    t.mock.timers.tick(200)
    await turn()
    assert.equal(statusOf(late), 503)
    acks[2]!.resolve() // settling after the deadline changes nothing
    await turn()
    assert.equal(statusOf(late), 503)
  })

  it('an acknowledging listener that throws at once is answered FAIL at once, naming the error', () => {
    const r = createReceiver({ sdkAppId: APP })
    r.onAny(
      () => {
        throw new Error('store closed')
      },
      { acknowledge: true },
    )
    const body = groupRecall()
    const answer = r.handle({ query: query(body.CallbackCommand), body: JSON.stringify(body) })
    assert.ok(!(answer instanceof Promise))
    assert.equal(answer.status, 503)
    assert.match(answerOf(answer).ErrorInfo, /TIMHOOK_ACK_FAILED.*store closed/)
  })
})
