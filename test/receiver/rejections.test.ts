import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createReceiver, type ReceiverResponse } from '../../src/receiver/index.js'
import { sign } from '../../src/protocol/signature.js'
import type { TimhookError } from '../../src/protocol/errors.js'
import { APP, TOKEN, answerOf, groupBeforeSend, groupRecall, query } from '../helpers/callbacks.js'

function setup(options: Partial<Parameters<typeof createReceiver>[0]> = {}) {
  const errors: TimhookError[] = []
  let handled = 0
  const seen: Array<{ valid: boolean; problem: string | undefined }> = []
  const receiver = createReceiver({ sdkAppId: APP, token: TOKEN, ...options })
  receiver.on('Group.CallbackAfterRecallMsg', (_e, ctx) => {
    handled++
    seen.push({ valid: ctx.valid, problem: ctx.problem })
  })
  receiver.onError((e) => errors.push(e))
  return { receiver, errors, handled: () => handled, seen }
}

const recall = JSON.stringify(groupRecall())

async function expectRejected(res: ReceiverResponse | Promise<ReceiverResponse>, status: number, code: string, errors: TimhookError[]) {
  const r = await res
  assert.equal(r.status, status)
  assert.equal(r.headers['content-type'], 'application/json; charset=utf-8')
  const a = answerOf(r)
  assert.equal(a.ActionStatus, 'FAIL')
  assert.ok(a.ErrorInfo.startsWith(`${code}: `), `ErrorInfo names the cause: ${a.ErrorInfo}`)
  assert.equal(errors.at(-1)?.code, code, 'the rejection reaches onError')
  assert.equal(errors.at(-1)?.isRejection, true)
}

describe('rejections', () => {
  it('accepts a well-signed callback (the baseline every rejection below differs from)', async () => {
    const { receiver, errors, handled } = setup()
    const r = await receiver.handle({ method: 'POST', query: query('Group.CallbackAfterRecallMsg', { token: TOKEN }), body: recall })
    assert.equal(r.status, 200)
    assert.deepEqual(answerOf(r), { ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '' })
    assert.equal(handled(), 1)
    assert.equal(errors.length, 0)
  })

  it('refuses a missing SdkAppid', async () => {
    const { receiver, errors, handled } = setup()
    const q = new URLSearchParams(query('Group.CallbackAfterRecallMsg', { token: TOKEN }))
    q.delete('SdkAppid')
    await expectRejected(receiver.handle({ query: q, body: recall }), 400, 'TIMHOOK_SDKAPPID_MISSING', errors)
    assert.equal(handled(), 0)
  })

  it('refuses a wrong SdkAppid', async () => {
    const { receiver, errors } = setup()
    const q = query('Group.CallbackAfterRecallMsg', { token: TOKEN, extra: { SdkAppid: '1400000001' } })
    await expectRejected(receiver.handle({ query: q, body: recall }), 403, 'TIMHOOK_SDKAPPID_MISMATCH', errors)
  })

  it('accepts any of several SdkAppids', async () => {
    const { receiver } = setup({ sdkAppId: [1400000001, APP] })
    const r = await receiver.handle({ query: query('Group.CallbackAfterRecallMsg', { token: TOKEN }), body: recall })
    assert.equal(r.status, 200)
  })

  it('refuses a missing Sign when a token is configured', async () => {
    const { receiver, errors } = setup()
    await expectRejected(
      receiver.handle({ query: query('Group.CallbackAfterRecallMsg'), body: recall }),
      401,
      'TIMHOOK_SIGN_MISSING',
      errors,
    )
  })

  it('refuses a wrong Sign', async () => {
    const { receiver, errors } = setup()
    const q = query('Group.CallbackAfterRecallMsg', { token: 'another-token' })
    await expectRejected(receiver.handle({ query: q, body: recall }), 401, 'TIMHOOK_SIGN_MISMATCH', errors)
  })

  it('refuses a RequestTime too old and too far ahead, and accepts one at the edge', async () => {
    const now = 1_700_000_000_000
    const { receiver, errors } = setup({ now: () => now })
    const at = (offset: number) => query('Group.CallbackAfterRecallMsg', { token: TOKEN, time: now / 1000 + offset })
    await expectRejected(receiver.handle({ query: at(-61), body: recall }), 401, 'TIMHOOK_REQUEST_TIME_SKEW', errors)
    await expectRejected(receiver.handle({ query: at(61), body: recall }), 401, 'TIMHOOK_REQUEST_TIME_SKEW', errors)
    assert.match(errors.at(-1)!.message, /61 s from now; at most 60 s/)
    assert.equal((await receiver.handle({ query: at(-60), body: recall })).status, 200)
  })

  it('honours a configured skew window', async () => {
    const now = 1_700_000_000_000
    const { receiver } = setup({ now: () => now, maxSkewSeconds: 300 })
    const q = query('Group.CallbackAfterRecallMsg', { token: TOKEN, time: now / 1000 - 299 })
    assert.equal((await receiver.handle({ query: q, body: recall })).status, 200)
  })

  it('refuses a non-numeric RequestTime', async () => {
    const { receiver, errors } = setup()
    const q = new URLSearchParams(query('Group.CallbackAfterRecallMsg', { token: TOKEN }))
    q.set('RequestTime', 'yesterday')
    q.set('Sign', sign(TOKEN, 'yesterday'))
    await expectRejected(receiver.handle({ query: q, body: recall }), 401, 'TIMHOOK_REQUEST_TIME_INVALID', errors)
  })

  it('refuses a body over the limit handed to handle()', async () => {
    const { receiver, errors } = setup({ bodyLimit: 100 })
    await expectRejected(
      receiver.handle({ query: query('Group.CallbackAfterRecallMsg', { token: TOKEN }), body: recall.padEnd(101) }),
      413,
      'TIMHOOK_BODY_TOO_LARGE',
      errors,
    )
  })

  it('refuses invalid JSON, an empty body and a non-object body', async () => {
    const { receiver, errors } = setup()
    const q = query('Group.CallbackAfterRecallMsg', { token: TOKEN })
    await expectRejected(receiver.handle({ query: q, body: '{"GroupId": ' }), 400, 'TIMHOOK_BODY_INVALID_JSON', errors)
    await expectRejected(receiver.handle({ query: q, body: '' }), 400, 'TIMHOOK_BODY_EMPTY', errors)
    await expectRejected(receiver.handle({ query: q, body: '  \n' }), 400, 'TIMHOOK_BODY_EMPTY', errors)
    await expectRejected(receiver.handle({ query: q, body: undefined }), 400, 'TIMHOOK_BODY_EMPTY', errors)
    await expectRejected(receiver.handle({ query: q, body: '[1,2]' }), 400, 'TIMHOOK_BODY_NOT_OBJECT', errors)
    await expectRejected(receiver.handle({ query: q, body: 'null' }), 400, 'TIMHOOK_BODY_NOT_OBJECT', errors)
  })

  it('refuses __proto__ and constructor keys at any depth, but not the words in text', async () => {
    const { receiver, errors } = setup()
    const q = query('Group.CallbackAfterRecallMsg', { token: TOKEN })
    await expectRejected(
      receiver.handle({ query: q, body: '{"GroupId":"g","__proto__":{"x":1}}' }),
      400,
      'TIMHOOK_BODY_FORBIDDEN_KEY',
      errors,
    )
    await expectRejected(
      receiver.handle({ query: q, body: '{"GroupId":"g","MsgSeqList":[{"MsgSeq":1,"constructor":{"prototype":{}}}]}' }),
      400,
      'TIMHOOK_BODY_FORBIDDEN_KEY',
      errors,
    )
    // JSON escapes spell the same keys without the letters appearing in the text.
    await expectRejected(
      receiver.handle({ query: q, body: '{"GroupId":"g","\\u005f_proto__":{"x":1}}' }),
      400,
      'TIMHOOK_BODY_FORBIDDEN_KEY',
      errors,
    )
    await expectRejected(
      receiver.handle({ query: q, body: '{"GroupId":"g","MsgSeqList":[{"MsgSeq":1,"\\u0063onstructor":{}}]}' }),
      400,
      'TIMHOOK_BODY_FORBIDDEN_KEY',
      errors,
    )
    const textual = JSON.stringify({ ...groupRecall(), Note: '"__proto__": and "constructor": are words' })
    assert.equal((await receiver.handle({ query: q, body: textual })).status, 200)
    assert.equal(({} as Record<string, unknown>).x, undefined, 'no prototype was polluted')
  })

  it('refuses a body CallbackCommand that contradicts the query', async () => {
    const { receiver, errors } = setup()
    const q = query('Group.CallbackAfterRecallMsg', { token: TOKEN })
    const body = JSON.stringify({ ...groupRecall(), CallbackCommand: 'Group.CallbackAfterSendMsg' })
    await expectRejected(receiver.handle({ query: q, body }), 400, 'TIMHOOK_COMMAND_MISMATCH', errors)
  })

  it('takes the command from the body when the query lacks it, and refuses when both lack it', async () => {
    const { receiver, errors, handled } = setup()
    const q = new URLSearchParams(query('Group.CallbackAfterRecallMsg', { token: TOKEN }))
    q.delete('CallbackCommand')
    assert.equal((await receiver.handle({ query: q, body: recall })).status, 200)
    assert.equal(handled(), 1)
    const { CallbackCommand: _, ...noCommand } = groupRecall()
    await expectRejected(receiver.handle({ query: q, body: JSON.stringify(noCommand) }), 400, 'TIMHOOK_COMMAND_MISSING', errors)
  })

  it('refuses a non-POST method', async () => {
    const { receiver, errors } = setup()
    const r = receiver.handle({ method: 'GET', query: query('Group.CallbackAfterRecallMsg', { token: TOKEN }), body: undefined })
    await expectRejected(r, 405, 'TIMHOOK_METHOD_NOT_ALLOWED', errors)
    assert.equal((await r).headers.allow, 'POST')
  })

  it('explains a body that a framework already parsed (500: a setup error, not a bad request)', async () => {
    const { receiver, errors } = setup()
    const r = await receiver.handle({ query: query('Group.CallbackAfterRecallMsg', { token: TOKEN }), body: groupRecall() })
    assert.equal(r.status, 500)
    assert.match(answerOf(r).ErrorInfo, /^TIMHOOK_BODY_ALREADY_PARSED: .*raw/)
    assert.equal(errors.at(-1)?.code, 'TIMHOOK_BODY_ALREADY_PARSED')
  })

  it('rejects a schema violation only in strict mode', async () => {
    const bad = JSON.stringify({ ...groupRecall(), MsgSeqList: [{ MsgSeq: 'abc' }] })
    const q = query('Group.CallbackAfterRecallMsg', { token: TOKEN })
    const lenient = setup()
    const r1 = await lenient.receiver.handle({ query: q, body: bad })
    assert.equal(r1.status, 200, 'accepted: nothing is lost')
    assert.equal(lenient.handled(), 1, 'the typed handler still gets it: nothing is lost')
    assert.equal(lenient.seen[0]?.valid, false)
    assert.match(lenient.seen[0]?.problem ?? '', /MsgSeqList\.0\.MsgSeq/, 'ctx.problem names the field')
    assert.equal(lenient.errors.at(-1)?.code, 'TIMHOOK_EVENT_SCHEMA_MISMATCH')
    assert.match(lenient.errors.at(-1)!.message, /MsgSeqList\.0\.MsgSeq must be an integer or its decimal digits, got "abc"/)
    const strict = setup({ strict: true })
    await expectRejected(strict.receiver.handle({ query: q, body: bad }), 400, 'TIMHOOK_INVALID_EVENT', strict.errors)
    assert.equal(strict.handled(), 0, 'strict: refused before any handler')
    assert.match(strict.errors.at(-1)!.message, /MsgSeqList\.0\.MsgSeq/)
  })

  it('accepts callbacks without Sign when no token is configured', async () => {
    const { receiver } = setup({ token: undefined })
    const r = await receiver.handle({ query: query('Group.CallbackBeforeSendMsg'), body: JSON.stringify(groupBeforeSend()) })
    assert.equal(r.status, 200)
  })
})

describe('a decider that throws a value with no text', () => {
  const unprintable = () => Object.create(null) as unknown // String() of it throws
  const build = (decide: () => unknown) => {
    const receiver = createReceiver({ sdkAppId: APP })
    const errors: string[] = []
    receiver.onError((e) => errors.push(`${e.code}: ${e.message}`))
    receiver.on('Group.CallbackBeforeSendMsg', decide as never)
    return { receiver, errors }
  }
  const request = () => ({ method: 'POST', query: query('Group.CallbackBeforeSendMsg'), body: JSON.stringify(groupBeforeSend()) })

  it(
    'async or sync, handle and handleWith answer with the fallback and report TIMHOOK_HANDLER_FAILED; no unhandled rejection',
    { timeout: 10_000 },
    async () => {
      const unhandled: unknown[] = []
      const onUnhandled = (reason: unknown) => void unhandled.push(reason)
      process.on('unhandledRejection', onUnhandled)
      try {
        for (const decide of [
          async () => Promise.reject(unprintable()),
          () => {
            throw unprintable()
          },
        ]) {
          const a = build(decide)
          const viaHandle = await a.receiver.handle(request())
          const b = build(decide)
          const viaHandleWith = await new Promise<ReceiverResponse>((resolve) => {
            const now = b.receiver.handleWith(request(), resolve)
            if (now !== undefined) resolve(now)
          })
          for (const [res, errors] of [
            [viaHandle, a.errors],
            [viaHandleWith, b.errors],
          ] as const) {
            assert.equal(res.status, 200)
            assert.deepEqual(answerOf(res), { ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '' }, 'the fallback verdict (allow)')
            assert.equal(errors.length, 1, errors.join('\n'))
            assert.match(errors[0]!, /^TIMHOOK_HANDLER_FAILED: .*\[object Object\]/)
          }
        }
        // Rejections are reported after a macrotask turn at the latest.
        await new Promise<void>((resolve) => setImmediate(resolve))
        assert.deepEqual(unhandled, [])
      } finally {
        process.off('unhandledRejection', onUnhandled)
      }
    },
  )
})
