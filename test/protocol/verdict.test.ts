import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { TimhookError } from '../../src/protocol/errors.js'
import { answerFor, denyCodeFamily, isVerdict, verdict, verdictOfAnswer } from '../../src/protocol/verdict.js'

const G = 'Group.CallbackBeforeSendMsg'
const C = 'C2C.CallbackBeforeSendMsg'

describe('verdicts on the wire', () => {
  it('denyCodeFamily: the one definition of the custom ranges, ends included', () => {
    const cases: Array<[number, string | undefined]> = [
      [10099, undefined],
      [10100, 'group'],
      [10200, 'group'],
      [10201, undefined],
      [120000, undefined],
      [120001, 'c2c'],
      [130000, 'c2c'],
      [130001, undefined],
      [10150.5, undefined],
      [Number.NaN, undefined],
    ]
    for (const [code, family] of cases) assert.equal(denyCodeFamily(code), family, String(code))
  })
  it('allow is ErrorCode 0 with no body fields', () => {
    assert.deepEqual(answerFor(G, verdict.allow()), { ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '' })
  })
  it('allow with a rewrite carries MsgBody and CloudCustomData', () => {
    const msgBody = [{ MsgType: 'TIMTextElem' as const, MsgContent: { Text: 'hi ***' } }]
    assert.deepEqual(answerFor(G, verdict.allow({ msgBody, cloudCustomData: 'x' })), {
      ActionStatus: 'OK',
      ErrorCode: 0,
      ErrorInfo: '',
      MsgBody: msgBody,
      CloudCustomData: 'x',
    })
  })
  it('deny is ErrorCode 1 and drop is ErrorCode 2', () => {
    assert.equal(answerFor(C, verdict.deny()).ErrorCode, 1)
    assert.equal(answerFor(G, verdict.drop()).ErrorCode, 2)
  })
  it('a custom deny passes code and info through within the command range', () => {
    assert.deepEqual(answerFor(G, verdict.deny({ code: 10100, info: 'slow down' })), {
      ActionStatus: 'OK',
      ErrorCode: 10100,
      ErrorInfo: 'slow down',
    })
    assert.deepEqual(answerFor(C, verdict.deny({ code: 130000 })), { ActionStatus: 'OK', ErrorCode: 130000, ErrorInfo: '' })
  })
  it('refuses a code in neither range when the verdict is built', () => {
    for (const code of [0, 1, 2, 10016, 10099, 10201, 120000, 130001, 10100.5]) {
      assert.throws(
        () => verdict.deny({ code }),
        (e: unknown) => e instanceof TimhookError && e.code === 'TIMHOOK_DENY_CODE_OUT_OF_RANGE',
      )
    }
  })
  it('refuses a group code for a one-to-one message and the reverse, at answer time', () => {
    assert.throws(() => answerFor(C, verdict.deny({ code: 10150 })), /120001–130000/)
    assert.throws(() => answerFor(G, verdict.deny({ code: 120001 })), /10100–10200/)
  })
  it('refuses rewrites and infos Tencent could not use, saying which', () => {
    assert.throws(() => verdict.allow({ msgBody: [] }), /non-empty array/)
    assert.throws(() => verdict.allow({ msgBody: [{ Text: 'x' }] as never }), /msgBody\[0\] is not a message element/)
    assert.throws(() => verdict.allow({ cloudCustomData: 5 as never }), /cloudCustomData must be a string/)
    assert.throws(() => verdict.deny({ code: 10101, info: 123 as never }), /info must be a string/)
  })

  it('reads verdicts back from answers', () => {
    assert.equal(verdictOfAnswer({ ErrorCode: 2, ErrorInfo: '' }).kind, 'drop')
    const v = verdictOfAnswer({ ErrorCode: 10101, ErrorInfo: 'no' })
    assert.ok(v.kind === 'deny' && v.code === 10101 && v.info === 'no')
    assert.ok(isVerdict(v))
    assert.equal(isVerdict({ kind: 'allow' }), false)
  })
})
