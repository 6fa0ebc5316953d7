/** The bench's policy files stay what they say they are: the example less one rule. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { loadPolicyFile } from '../../src/policy/index.js'

describe('bench/targets policies', () => {
  it('policy-no-stamp.yaml is examples/policy.yaml less its stamp rule, in the same order', () => {
    const example = loadPolicyFile('examples/policy.yaml').rules
    const noStamp = loadPolicyFile('bench/targets/policy-no-stamp.yaml').rules
    const stamps = example.filter((r) => r.action === 'stamp')
    assert.deepEqual(
      stamps.map((r) => r.name),
      ['member-level'],
    )
    assert.deepEqual(
      noStamp.map((r) => [r.name, r.action, r.dryRun]),
      example.filter((r) => r.action !== 'stamp').map((r) => [r.name, r.action, r.dryRun]),
    )
    const spam = (p: string) =>
      loadPolicyFile(p).decide({
        CallbackCommand: 'Group.CallbackBeforeSendMsg',
        GroupId: 'g',
        From_Account: 'u',
        MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'x 加微信 y' } }],
      })
    assert.equal(spam('bench/targets/policy-no-stamp.yaml').rule, spam('examples/policy.yaml').rule, 'the same keywords file')
  })
})
