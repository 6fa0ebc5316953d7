/** The decision record of a before-send: built once for a policy's shared decision, the same as built each time. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createPolicy } from '../../src/policy/index.js'
import { verdict } from '../../src/protocol/verdict.js'
import { decisionOf, recordOf } from '../../src/server/attach-recorder.js'
import { decisionJson } from '../../src/store/records.js'

const event = (from: string) => ({
  CallbackCommand: 'Group.CallbackBeforeSendMsg',
  GroupId: '@TGS#1',
  From_Account: from,
  MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'hi' } }],
})

describe('recordOf', () => {
  it("records a policy's shared decision once, as decisionOf would each time, JSON included", () => {
    for (const policy of [
      createPolicy({ rules: [] }),
      createPolicy({ rules: [{ name: 'x', when: { keywords: ['spam'] }, then: 'deny' }] }),
    ]) {
      const d = policy.decide(event('alice'))
      assert.equal(d.reason, 'no rule matched')
      const meta = { policy: d }
      const a = recordOf(d.verdict, false, meta)
      assert.deepEqual(a, decisionOf(d.verdict, false, meta))
      assert.equal(recordOf(d.verdict, false, { policy: policy.decide(event('bob')) }), a, 'one record for every message')
      assert.equal(decisionJson(a), decisionJson({ ...a }), 'the JSON of the shared record is the JSON of a fresh one')
      assert.equal(decisionJson(a), decisionJson(a))
    }
  })

  it('builds the record each time for a fallback, another verdict, or a decision of its own', () => {
    const shared = createPolicy({ rules: [] }).decide(event('alice'))
    const fallback = recordOf(shared.verdict, true, { policy: shared })
    assert.equal(fallback.fallback, true)
    assert.notEqual(recordOf(shared.verdict, true, { policy: shared }), fallback)
    const denied = recordOf(verdict.deny(), false, { policy: shared })
    assert.equal(denied.verdict, 'deny', 'the verdict sent is recorded, not the decision’s')
    const own = createPolicy({ rules: [{ name: 'd', when: { always: true }, then: 'deny' }] }).decide(event('alice'))
    const r = recordOf(own.verdict, false, { policy: own })
    assert.deepEqual(r, decisionOf(own.verdict, false, { policy: own }))
    assert.equal(r.rule, 'd')
    assert.notEqual(recordOf(own.verdict, false, { policy: own }), r, 'a decision built for its message: its record too')
    assert.equal(recordOf(verdict.allow(), false, {}).rule, null, 'no policy decision: policy fields null')
  })
})
