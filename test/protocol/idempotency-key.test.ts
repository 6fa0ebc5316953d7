import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { beforeSendEventKey, beforeSendMessageKey, idempotencyKey } from '../../src/protocol/idempotency-key.js'

const GROUP = 'Group.CallbackBeforeSendMsg'
const C2C = 'C2C.CallbackBeforeSendMsg'

describe('beforeSendMessageKey', () => {
  it('identifies a group send by group, topic, sender, Random and MsgId when present, the same from its after-send', () => {
    const base = { GroupId: '@TGS#1', From_Account: 'alice', Random: 42 }
    assert.equal(beforeSendMessageKey(GROUP, base), 'gs|@TGS#1||alice|42')
    assert.equal(beforeSendMessageKey(GROUP, { ...base, MsgId: 'x' }), 'gs|@TGS#1||alice|42|x', 'MsgId tells apart two sends that reuse a Random')
    assert.equal(beforeSendMessageKey('Group.CallbackAfterSendMsg', { ...base, MsgId: 'x', MsgSeq: 9 }), 'gs|@TGS#1||alice|42|x')
    assert.equal(beforeSendMessageKey(GROUP, { ...base, TopicId: '@TGS#1@TOPIC#a' }), 'gs|@TGS#1|@TGS#1@TOPIC#a|alice|42')
    assert.notEqual(beforeSendMessageKey(GROUP, base), beforeSendMessageKey(GROUP, { ...base, From_Account: 'bob' }))
    assert.notEqual(beforeSendMessageKey(GROUP, base), beforeSendMessageKey(GROUP, { ...base, Random: 43 }))
    assert.equal(beforeSendMessageKey(GROUP, { GroupId: 'g', From_Account: 'a', Random: '7' }), 'gs|g||a|7', 'a numeric string is the same Random')
    assert.equal(beforeSendMessageKey(GROUP, { GroupId: 'g', From_Account: 'a', Random: 0 }), 'gs|g||a|0', 'Random 0 is an identity')
  })

  it('is undefined when the event carries no identity, so that two messages are never taken for one', () => {
    assert.equal(beforeSendMessageKey(GROUP, { GroupId: 'g', From_Account: 'a' }), undefined)
    assert.equal(beforeSendMessageKey(GROUP, { GroupId: 'g', From_Account: 'a', Random: 1.5, MsgId: 'x' }), undefined)
    assert.equal(beforeSendMessageKey(GROUP, { From_Account: 'a', Random: 1 }), undefined, 'no group')
    assert.equal(beforeSendMessageKey(C2C, { From_Account: 'a', To_Account: 'b' }), undefined)
    assert.equal(beforeSendMessageKey(C2C, { MsgKey: '' }), undefined)
    assert.equal(beforeSendMessageKey('Group.CallbackAfterRecallMsg', { GroupId: 'g', Random: 1 }), undefined, 'not a send')
  })

  it('is what the before-send is recorded under, so that its message finds the decision', () => {
    assert.equal(idempotencyKey(C2C, { MsgKey: '1_2_3' }, ''), `${C2C}|c|1_2_3`)
    assert.equal(idempotencyKey(C2C, { MsgKey: '1_2_3' }, ''), beforeSendEventKey('c2c', 'c|1_2_3'))
    const body = { GroupId: 'g', From_Account: 'a', Random: 5 }
    assert.equal(idempotencyKey(GROUP, body, ''), beforeSendEventKey('group', beforeSendMessageKey(GROUP, body)!))
  })

  it('without an identity, a before-send is keyed by its raw body: two different ones are both kept', () => {
    const a = idempotencyKey(GROUP, { GroupId: 'g', From_Account: 'a' }, '{"n":1}')
    const b = idempotencyKey(GROUP, { GroupId: 'g', From_Account: 'a' }, '{"n":2}')
    assert.match(a, /\|sha256:[0-9a-f]{64}$/)
    assert.notEqual(a, b)
  })
})
