import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { applyBeforeSendAnswer } from '../../src/sender/before-send-answer.js'
import type { CallbackOutcome } from '../../src/sender/callback-sender.js'

const answered = (answer: Record<string, unknown>): CallbackOutcome => ({ kind: 'answered', status: 200, answer, latencyMs: 1 })
const okWith = (fields: Record<string, unknown>) => answered({ ActionStatus: 'OK', ErrorInfo: '', ...fields })
const newBody = [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'masked' } }]

describe('before-send decision', () => {
  it('0 delivers, with the replacement body and custom data when given', () => {
    assert.deepEqual(applyBeforeSendAnswer('group', okWith({ ErrorCode: 0 }), false), { kind: 'deliver' })
    assert.deepEqual(applyBeforeSendAnswer('c2c', okWith({ ErrorCode: 0, MsgBody: newBody, CloudCustomData: 'x' }), false), {
      kind: 'deliver',
      msgBody: newBody,
      cloudCustomData: 'x',
    })
  })

  it('1 refuses with 10016 in groups and 20006 one-to-one; 2 drops', () => {
    assert.deepEqual(applyBeforeSendAnswer('group', okWith({ ErrorCode: 1 }), false).kind, 'deny')
    assert.equal((applyBeforeSendAnswer('group', okWith({ ErrorCode: 1 }), false) as { code: number }).code, 10016)
    assert.equal((applyBeforeSendAnswer('c2c', okWith({ ErrorCode: 1 }), false) as { code: number }).code, 20006)
    assert.deepEqual(applyBeforeSendAnswer('group', okWith({ ErrorCode: 2 }), false), { kind: 'drop' })
    assert.deepEqual(applyBeforeSendAnswer('c2c', okWith({ ErrorCode: 2 }), false), { kind: 'drop' })
  })

  it('passes custom codes in the family range through with ErrorInfo', () => {
    assert.deepEqual(applyBeforeSendAnswer('group', okWith({ ErrorCode: 10150, ErrorInfo: 'no links' }), false), {
      kind: 'deny',
      code: 10150,
      info: 'no links',
    })
    assert.deepEqual(applyBeforeSendAnswer('c2c', okWith({ ErrorCode: 120001, ErrorInfo: 'blocked' }), false), {
      kind: 'deny',
      code: 120001,
      info: 'blocked',
    })
  })

  it('a code of the other family, FAIL, or a bad rewrite is a failed callback: delivered, or refused when fail-closed', () => {
    for (const [family, answer] of [
      ['group', okWith({ ErrorCode: 120001 })],
      ['c2c', okWith({ ErrorCode: 10100 })],
      ['group', answered({ ActionStatus: 'FAIL', ErrorCode: 1, ErrorInfo: '' })],
      ['group', okWith({ ErrorCode: '1' })],
      ['group', okWith({ ErrorCode: 0, MsgBody: 'text' })],
      ['c2c', okWith({ ErrorCode: 0, CloudCustomData: 5 })],
    ] as const) {
      const open = applyBeforeSendAnswer(family, answer, false)
      assert.equal(open.kind, 'deliver')
      assert.ok(open.kind === 'deliver' && open.failure !== undefined && open.msgBody === undefined)
      const closed = applyBeforeSendAnswer(family, answer, true)
      assert.equal(closed.kind === 'deny' && closed.code, family === 'group' ? 10016 : 20006)
    }
  })

  it('timeouts and transport failures deliver by default (fail-open)', () => {
    const timeout: CallbackOutcome = { kind: 'failed', reason: 'timeout', detail: 'no answer within 2000 ms', latencyMs: 2000 }
    assert.equal(applyBeforeSendAnswer('group', timeout, false).kind, 'deliver')
    assert.equal(applyBeforeSendAnswer('c2c', timeout, true).kind, 'deny')
  })

  it('any answer yields a decision: never a throw, a refusal code is 10016/20006 or in the family range', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('group' as const, 'c2c' as const),
        fc.dictionary(fc.string(), fc.jsonValue()),
        fc.integer(),
        fc.boolean(),
        (family, extra, code, closed) => {
          const d = applyBeforeSendAnswer(family, okWith({ ...extra, ActionStatus: 'OK', ErrorCode: code }), closed)
          if (d.kind === 'deny') {
            const [lo, hi] = family === 'group' ? [10100, 10200] : [120001, 130000]
            assert.ok(d.code === (family === 'group' ? 10016 : 20006) || (d.code >= lo && d.code <= hi), `code ${d.code}`)
          }
        },
      ),
    )
  })
})
