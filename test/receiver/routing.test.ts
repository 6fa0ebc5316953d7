import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createReceiver, type AnswerOutcome } from '../../src/receiver/index.js'
import { TimhookError } from '../../src/protocol/errors.js'
import { verdict } from '../../src/protocol/verdict.js'
import { APP, answerOf, c2cBeforeSend, c2cWithdraw, groupBeforeSend, groupRecall, query } from '../helpers/callbacks.js'

const send = (r: ReturnType<typeof createReceiver>, body: Record<string, unknown>, extra: Record<string, string> = {}) =>
  r.handle({ method: 'POST', query: query(String(body.CallbackCommand), { extra }), body: JSON.stringify(body) })

describe('routing', () => {
  it('gives the decider a typed, decoded event and its context', async () => {
    const r = createReceiver({ sdkAppId: APP })
    let seen: unknown
    r.on('Group.CallbackBeforeSendMsg', (e, ctx) => {
      seen = {
        group: e.GroupId,
        time: e.EventTime,
        ip: ctx.clientIp,
        platform: ctx.optPlatform,
        command: ctx.command,
        raw: ctx.rawBody.length > 0,
      }
      return verdict.allow()
    })
    const res = await send(r, groupBeforeSend('hi', { EventTime: '1670574414123' }), { OptPlatform: 'IOS' })
    assert.equal(res.status, 200)
    assert.deepEqual(seen, {
      group: '@TGS#2J4SZEAEL',
      time: 1670574414123,
      ip: '10.0.0.1',
      platform: 'iOS',
      command: 'Group.CallbackBeforeSendMsg',
      raw: true,
    })
  })

  it('answers one deny verdict reused across messages and commands by its range for each command', async () => {
    const slow = verdict.deny({ code: 10150, info: 'slow down' }) // a group code: out of range for C2C
    const r = createReceiver({ sdkAppId: APP })
    const errors: string[] = []
    r.onError((e) => void errors.push(e.code))
    r.on(['Group.CallbackBeforeSendMsg', 'C2C.CallbackBeforeSendMsg'], () => slow)
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(answerOf(await send(r, groupBeforeSend())), { ActionStatus: 'OK', ErrorCode: 10150, ErrorInfo: 'slow down' })
      assert.deepEqual(
        answerOf(await send(r, c2cBeforeSend())),
        { ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '' },
        'C2C: refused verdict → fallback allow',
      )
    }
    assert.deepEqual(errors, ['TIMHOOK_VERDICT_INVALID', 'TIMHOOK_VERDICT_INVALID', 'TIMHOOK_VERDICT_INVALID'])
    // The answer is shared by every later use of the verdict: a caller cannot change it for them.
    const shared = await send(r, groupBeforeSend())
    assert.throws(() => ((shared as { body: string }).body = 'changed'), TypeError)
    assert.equal(answerOf(await send(r, groupBeforeSend())).ErrorCode, 10150)
  })

  it('answers each verdict as Tencent expects', async () => {
    const cases = [
      [verdict.allow(), { ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '' }],
      [verdict.deny(), { ActionStatus: 'OK', ErrorCode: 1, ErrorInfo: '' }],
      [verdict.drop(), { ActionStatus: 'OK', ErrorCode: 2, ErrorInfo: '' }],
      [verdict.deny({ code: 10150, info: 'slow down' }), { ActionStatus: 'OK', ErrorCode: 10150, ErrorInfo: 'slow down' }],
      [
        verdict.allow({ msgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: '***' } }], cloudCustomData: 'stamped' }),
        {
          ActionStatus: 'OK',
          ErrorCode: 0,
          ErrorInfo: '',
          MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: '***' } }],
          CloudCustomData: 'stamped',
        },
      ],
    ] as const
    for (const [v, expected] of cases) {
      const r = createReceiver({ sdkAppId: APP })
      r.on('Group.CallbackBeforeSendMsg', () => v)
      assert.deepEqual(answerOf(await send(r, groupBeforeSend())), expected)
    }
  })

  it('allows a before-event that has no decider', async () => {
    const r = createReceiver({ sdkAppId: APP })
    assert.deepEqual(answerOf(await send(r, c2cBeforeSend())), { ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '' })
  })

  it('refuses a second decider for the same before-event, naming it', () => {
    const r = createReceiver({ sdkAppId: APP })
    r.on('C2C.CallbackBeforeSendMsg', () => verdict.allow())
    assert.throws(
      () => r.on(['Group.CallbackBeforeSendMsg', 'C2C.CallbackBeforeSendMsg'], () => verdict.allow()),
      (e: unknown) =>
        e instanceof TimhookError && e.code === 'TIMHOOK_DUPLICATE_DECIDER' && e.message.includes('C2C.CallbackBeforeSendMsg'),
    )
  })

  it('refuses an unknown command name in on(), pointing to onAny', () => {
    const r = createReceiver({ sdkAppId: APP })
    // @ts-expect-error — not a known command
    assert.throws(() => r.on('Group.CallbackAfterRecallMessage', () => {}), /onAny/)
  })

  it('runs every listener of an after-event, and a throwing one reaches onError while the answer stays OK', async () => {
    const r = createReceiver({ sdkAppId: APP })
    const calls: string[] = []
    const errors: string[] = []
    r.on('Group.CallbackAfterRecallMsg', (e) => void calls.push(`a:${e.MsgSeqList[0]!.MsgSeq}`))
    r.on('Group.CallbackAfterRecallMsg', async () => {
      await new Promise((resolve) => setTimeout(resolve, 5))
      calls.push('b')
    })
    r.on('Group.CallbackAfterRecallMsg', () => {
      throw new Error('database down')
    })
    r.on('Group.CallbackAfterRecallMsg', async () => {
      throw new Error('async failure')
    })
    r.onError((e) => errors.push(`${e.code}: ${e.message}`))
    const res = await send(r, groupRecall())
    assert.deepEqual(answerOf(res), { ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '' })
    assert.deepEqual(calls.sort(), ['a:130', 'b'], 'the answer waited for the async listener')
    assert.equal(errors.length, 2)
    assert.ok(errors.some((e) => e.includes('database down')) && errors.some((e) => e.includes('async failure')))
  })

  it('routes one listener to several commands', async () => {
    const r = createReceiver({ sdkAppId: APP })
    const seen: string[] = []
    r.on(['Group.CallbackAfterRecallMsg', 'C2C.CallbackAfterMsgWithDraw'], (e) => void seen.push(e.CallbackCommand))
    await send(r, groupRecall())
    await send(r, c2cWithdraw())
    assert.deepEqual(seen, ['Group.CallbackAfterRecallMsg', 'C2C.CallbackAfterMsgWithDraw'])
  })

  it('answers unknown commands OK and shows them to onAny', async () => {
    const r = createReceiver({ sdkAppId: APP })
    const seen: Array<[string, boolean]> = []
    r.onAny((e, ctx) => void seen.push([String(e.CallbackCommand), ctx.known]))
    const res = await send(r, { CallbackCommand: 'Group.CallbackAfterSomethingNew2027', GroupId: 'g', Whatever: [1] })
    assert.deepEqual(answerOf(res), { ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '' })
    assert.deepEqual(seen, [['Group.CallbackAfterSomethingNew2027', false]])
  })

  it('answers OK / 0 to commands named like Object.prototype members, as to any unknown command', async () => {
    const r = createReceiver({ sdkAppId: APP })
    const known: boolean[] = []
    r.onAny((_e, ctx) => void known.push(ctx.known))
    for (const command of ['constructor', 'toString', '__proto__', 'hasOwnProperty', '__defineGetter__']) {
      const res = await r.handle({ query: query(command), body: '{"a":1}' })
      assert.equal(res.status, 200, command)
      assert.deepEqual(answerOf(res), { ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '' }, command)
    }
    assert.deepEqual(known, [false, false, false, false, false])
  })

  it('a refused on() registers nothing', async () => {
    const r = createReceiver({ sdkAppId: APP })
    r.on('C2C.CallbackBeforeSendMsg', () => verdict.drop())
    assert.throws(
      () => r.on(['Group.CallbackBeforeSendMsg', 'C2C.CallbackBeforeSendMsg'], () => verdict.deny()),
      /C2C\.CallbackBeforeSendMsg already has/,
    )
    assert.equal(answerOf(await send(r, groupBeforeSend())).ErrorCode, 0, 'the group decider was not registered by the refused call')
    r.on('Group.CallbackBeforeSendMsg', () => verdict.deny())
    assert.equal(answerOf(await send(r, groupBeforeSend())).ErrorCode, 1)
  })

  it('a stuck after-event listener cannot hold the answer past deadlineMs', async () => {
    const r = createReceiver({ sdkAppId: APP, deadlineMs: 100 })
    const errors: string[] = []
    r.onError((e) => errors.push(e.code))
    r.on('Group.CallbackAfterRecallMsg', () => new Promise(() => {}))
    const res = await send(r, groupRecall())
    assert.deepEqual(answerOf(res), { ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '' })
    assert.deepEqual(errors, ['TIMHOOK_DEADLINE_EXCEEDED'])
  })

  it('an acknowledging listener that does not finish within deadlineMs gets a 503: nothing confirms it stored', async () => {
    const r = createReceiver({ sdkAppId: APP, deadlineMs: 100 })
    r.onAny(() => new Promise(() => {}), { acknowledge: true })
    const res = await send(r, c2cWithdraw())
    assert.equal(res.status, 503)
    assert.match(answerOf(res).ErrorInfo, /^TIMHOOK_ACK_FAILED: .*did not finish within 100 ms/)
  })

  it('onAnswer reports the verdict actually sent when a fallback deny code does not fit the command', async () => {
    const r = createReceiver({ sdkAppId: APP, deadlineMs: 20, onDeadline: verdict.deny({ code: 10150 }) })
    const outcomes: AnswerOutcome[] = []
    r.onAnswer((o) => outcomes.push(o))
    r.on('C2C.CallbackBeforeSendMsg', () => new Promise(() => {}))
    const res = await send(r, c2cBeforeSend())
    assert.equal(answerOf(res).ErrorCode, 0, 'a group code is never sent for a one-to-one message')
    assert.equal(outcomes[0]?.verdict?.kind, 'allow')
    assert.equal(outcomes[0]?.fallback, true)
  })

  it('a logger that throws changes nothing: handle() still answers', async () => {
    const boom = () => {
      throw new Error('logger transport closed')
    }
    const r = createReceiver({ sdkAppId: APP, token: 'tok', logger: { debug: boom, info: boom, warn: boom, error: boom } })
    r.on('Group.CallbackAfterRecallMsg', () => {
      throw new Error('listener failure, logged at error')
    })
    const rejected = await r.handle({
      query: query('Group.CallbackAfterRecallMsg', { token: 'wrong' }),
      body: JSON.stringify(groupRecall()),
    })
    assert.equal(rejected.status, 401)
    const ok = await r.handle({ query: query('Group.CallbackAfterRecallMsg', { token: 'tok' }), body: JSON.stringify(groupRecall()) })
    assert.equal(ok.status, 200)
  })

  it('acknowledging onAny: the after-event answer waits for it and is a 503 FAIL when it fails', async () => {
    const r = createReceiver({ sdkAppId: APP })
    let stored = 0
    let failNext = false
    r.onAny(
      async () => {
        await new Promise((resolve) => setTimeout(resolve, 10))
        if (failNext) throw new Error('commit failed: connection refused')
        stored++
      },
      { acknowledge: true },
    )
    assert.equal((await send(r, groupRecall())).status, 200)
    assert.equal(stored, 1, 'answered only after the listener finished')
    failNext = true
    const res = await send(r, groupRecall())
    assert.equal(res.status, 503)
    assert.match(answerOf(res).ErrorInfo, /^TIMHOOK_ACK_FAILED: .*commit failed/)
  })

  it('acknowledging onAny never delays a before-event answer', { timeout: 5000 }, async () => {
    const r = createReceiver({ sdkAppId: APP })
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    r.onAny(() => gate, { acknowledge: true })
    r.on('Group.CallbackBeforeSendMsg', () => verdict.drop())
    const res = await send(r, groupBeforeSend())
    assert.equal(answerOf(res).ErrorCode, 2)
    release()
  })

  it('reports each outcome to onAnswer, with the decision annotations handlers left in ctx.meta', async () => {
    const r = createReceiver({ sdkAppId: APP, token: 'tok' })
    const outcomes: AnswerOutcome[] = []
    r.onAnswer((o) => outcomes.push(o))
    r.on('Group.CallbackBeforeSendMsg', (_e, ctx) => {
      ctx.meta.rule = 'spam-words'
      return verdict.deny()
    })
    await r.handle({ query: query('Group.CallbackBeforeSendMsg', { token: 'tok' }), body: JSON.stringify(groupBeforeSend()) })
    await r.handle({ query: query('Group.CallbackBeforeSendMsg', { token: 'wrong' }), body: JSON.stringify(groupBeforeSend()) })
    assert.equal(outcomes.length, 2)
    assert.equal(outcomes[0]!.verdict?.kind, 'deny')
    assert.equal(outcomes[0]!.ctx?.meta.rule, 'spam-words')
    assert.equal(outcomes[0]!.fallback, false)
    assert.equal(outcomes[1]!.status, 401)
    assert.equal(outcomes[1]!.errorCode, 'TIMHOOK_SIGN_MISMATCH')
    assert.ok(outcomes.every((o) => o.durationMs >= 0 && typeof o.requestId === 'string'))
  })

  it("gives every handler the command's phase and family from the catalogue; unknown commands are after/other", async () => {
    const r = createReceiver({ sdkAppId: APP })
    const seen: Array<[string, string, string]> = []
    r.onAny((_e, ctx) => void seen.push([ctx.command, ctx.phase, ctx.family]))
    const outcomes: AnswerOutcome[] = []
    r.onAnswer((o) => void outcomes.push(o))
    await send(r, groupBeforeSend('hi'))
    await send(r, c2cBeforeSend('hi'))
    await send(r, groupRecall())
    await send(r, { CallbackCommand: 'Sns.CallbackFriendAdd' })
    await send(r, { CallbackCommand: 'Future.CallbackNotYetDocumented', X: 1 })
    assert.deepEqual(seen, [
      ['Group.CallbackBeforeSendMsg', 'before', 'group'],
      ['C2C.CallbackBeforeSendMsg', 'before', 'c2c'],
      ['Group.CallbackAfterRecallMsg', 'after', 'group'],
      ['Sns.CallbackFriendAdd', 'after', 'other'],
      ['Future.CallbackNotYetDocumented', 'after', 'other'],
    ])
    assert.deepEqual(
      outcomes.map((o) => o.ctx?.phase),
      ['before', 'before', 'after', 'after', 'after'],
    )
  })

  it('uses x-request-id as the request id when present', async () => {
    const r = createReceiver({ sdkAppId: APP })
    let id = ''
    r.onAnswer((o) => (id = o.requestId))
    await r.handle({
      query: query('C2C.CallbackAfterMsgWithDraw'),
      headers: { 'x-request-id': 'abc-123' },
      body: JSON.stringify(c2cWithdraw()),
    })
    assert.equal(id, 'abc-123')
  })

  it('validates options at construction, naming the option', () => {
    assert.throws(() => createReceiver({ sdkAppId: 'abc' }), /sdkAppId/)
    assert.throws(() => createReceiver({ sdkAppId: APP, deadlineMs: 2000 }), /deadlineMs.*2000/)
    assert.throws(() => createReceiver({ sdkAppId: APP, token: '' }), /token/)
    assert.throws(() => createReceiver({ sdkAppId: APP, bodyLimit: -1 }), /bodyLimit/)
    // @ts-expect-error — not a verdict
    assert.throws(() => createReceiver({ sdkAppId: APP, onDeadline: { kind: 'allow' } }), /onDeadline/)
  })
})
