/**
 * The rewritten body a stamp answers, over generated messages: the body the rules before it left,
 * with one element appended, serialised byte for byte as `[...body, { MsgType, MsgContent: { Data,
 * Desc, Ext } }]` — whatever the policy decided before (one stamp element is shared by every
 * message stamped with its Data; it must not carry anything from one message to the next).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { answerFor } from '../../src/protocol/verdict.js'
import { createPolicy, type RuleConfig } from '../../src/policy/index.js'

const G = 'Group.CallbackBeforeSendMsg'
const LEVELS = { alice: 'LV3', jared: 'LV1' }

const element = fc.oneof(
  fc.record({
    MsgType: fc.constant('TIMTextElem'),
    MsgContent: fc.record({ Text: fc.oneof(fc.string(), fc.constantFrom('call 13812345678', 'lv3 buy now', '免费领取')) }),
  }),
  fc.record({ MsgType: fc.constant('TIMFaceElem'), MsgContent: fc.record({ Index: fc.integer(), Data: fc.string() }) }),
  fc.record({ MsgType: fc.constant('TIMCustomElem'), MsgContent: fc.record({ Data: fc.string(), Desc: fc.string() }) }),
)
const message = fc.record({
  sender: fc.constantFrom('alice', 'jared', 'bob', ''),
  body: fc.array(element, { minLength: 1, maxLength: 4 }),
})

const mask: RuleConfig = { name: 'phone', when: { regex: { pattern: '1[3-9]\\d{9}', fold: true } }, then: { mask: '*' } }
const stamp = (ext: boolean): RuleConfig => ({
  name: 'level',
  when: { always: true },
  then: { stamp: { desc: 'CustomElement.MemberLevel', dataFrom: 'levels', default: 'LV0', ...(ext ? { ext: 'e' } : {}) } },
})
// Reads the stamped element's fields: the rules after a stamp see the appended element.
const maskLevel: RuleConfig = { name: 'lv', when: { keywords: { words: ['lv3'], fields: ['custom'] } }, then: { mask: '#' } }

const event = (m: { sender: string; body: unknown[] }, i: number) => ({
  CallbackCommand: G,
  GroupId: '@TGS#1',
  Type: 'Public',
  From_Account: m.sender,
  Random: i,
  MsgBody: m.body,
})
const answerBody = (d: { verdict: Parameters<typeof answerFor>[1] }) => JSON.stringify(answerFor(G, d.verdict))

describe('a stamp rewrites the body it is given, and nothing else', () => {
  it('mask then stamp answers the masked body plus the stamp element, byte for byte, message after message', () => {
    fc.assert(
      fc.property(fc.array(message, { minLength: 1, maxLength: 12 }), fc.boolean(), (messages, ext) => {
        const both = createPolicy({ rules: [mask, stamp(ext)], levels: LEVELS })
        const maskOnly = createPolicy({ rules: [mask] })
        messages.forEach((m, i) => {
          const before = JSON.stringify(m.body)
          const d = both.decide(event(m, i))
          const masked = maskOnly.decide(event(m, i))
          const body = masked.rewritten ? masked.verdict.kind === 'allow' && masked.verdict.msgBody : m.body
          const data = LEVELS[m.sender as keyof typeof LEVELS] ?? 'LV0'
          const expected = m.body.some((el) => el.MsgType === 'TIMCustomElem')
            ? body === m.body
              ? JSON.stringify({ ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '' })
              : JSON.stringify({ ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '', MsgBody: body })
            : JSON.stringify({
                ActionStatus: 'OK',
                ErrorCode: 0,
                ErrorInfo: '',
                MsgBody: [
                  ...(body as unknown[]),
                  { MsgType: 'TIMCustomElem', MsgContent: { Data: data, Desc: 'CustomElement.MemberLevel', ...(ext ? { Ext: 'e' } : {}) } },
                ],
              })
          assert.equal(answerBody(d), expected, `message ${i}`)
          assert.equal(JSON.stringify(m.body), before, 'the event is not changed')
        })
      }),
      { numRuns: 200 },
    )
  })

  it('a rule after the stamp reads the stamped element: it masks a level stamped before it, and only that message', () => {
    fc.assert(
      fc.property(fc.array(message, { minLength: 1, maxLength: 12 }), (messages) => {
        // The phone rule reads the fields before the stamp: the stamp adds to the fields listed.
        const p = createPolicy({ rules: [mask, stamp(false), maskLevel], levels: LEVELS })
        const stampOnly = createPolicy({ rules: [mask, stamp(false)], levels: LEVELS })
        messages.forEach((m, i) => {
          const d = p.decide(event(m, i))
          const s = stampOnly.decide(event(m, i))
          if (!s.rewritten) return void assert.equal(answerBody(d), answerBody(maskLevelAlone(m, i)), `message ${i}`)
          const stamped = (s.verdict.kind === 'allow' && s.verdict.msgBody) as Array<{
            MsgType: string
            MsgContent: Record<string, unknown>
          }>
          // The reference: the stamped body as a new message, through the mask rule alone.
          const again = maskLevelAlone({ sender: m.sender, body: stamped }, i)
          const want = again.rewritten ? answerBody(again) : answerBody(s)
          assert.equal(answerBody(d), want, `message ${i}`)
          if (!m.body.some((el) => el.MsgType === 'TIMCustomElem'))
            assert.equal(
              stamped.at(-1)!.MsgContent.Data,
              LEVELS[m.sender as keyof typeof LEVELS] ?? 'LV0',
              'the shared element is unchanged',
            )
        })
      }),
      { numRuns: 200 },
    )
  })
})

const maskLevelOnly = createPolicy({ rules: [maskLevel] })
const maskLevelAlone = (m: { sender: string; body: unknown[] }, i: number) => maskLevelOnly.decide(event(m, i))
