/**
 * Every JSON example of five callback pages (ja, ko and zh versions of the three core callbacks,
 * whose text is kept in test/fixtures/source-docs/pages, the examples verbatim beside them)
 * decodes to the right typed event, and timhook's answers equal the documented answers.
 */
import assert from 'node:assert/strict'
import { readFileSync, readdirSync } from 'node:fs'
import { describe, it } from 'node:test'
import { createReceiver } from '../../src/receiver/index.js'
import { decodeEvent } from '../../src/protocol/decode.js'
import { OK_ANSWER, answerFor, verdict } from '../../src/protocol/verdict.js'
import { APP, answerOf, query } from '../helpers/callbacks.js'
import { FIXTURES, loadFixtures, stripComments } from '../helpers/fixtures.js'

const fixtures = loadFixtures('source-docs')
const requests = fixtures.filter((f) => f.name.includes('request'))
const byName = (prefix: string) => fixtures.find((f) => f.name.startsWith(prefix))!.json

describe('conformance with the documentation examples', () => {
  it('has every example: five request bodies and eight answers', () => {
    assert.equal(requests.length, 5)
    assert.equal(fixtures.filter((f) => f.name.includes('response')).length, 8)
    assert.equal(fixtures.length, 5 + 8, 'every fixture is a request or an answer')
  })

  it('keeps the fixtures verbatim: each one appears in its source page', () => {
    const dir = FIXTURES + 'source-docs/pages/'
    const pages = readdirSync(dir).map((f) => [f.slice(0, 3), readFileSync(dir + f, 'utf8')] as const)
    assert.equal(pages.length, 5)
    for (const f of fixtures) {
      const page = pages.find(([prefix]) => f.name.startsWith(prefix))
      assert.ok(page?.[1].includes(f.text.trimEnd()), `${f.name} is a verbatim copy`)
    }
  })

  it('strips only comments: a // inside a string survives', () => {
    assert.deepEqual(JSON.parse(stripComments('{"u": "https://x//y", // c\n "n": 1}')), { u: 'https://x//y', n: 1 })
  })

  for (const f of requests) {
    it(`decodes ${f.name} (${String(f.json.CallbackCommand)}) through the receiver`, async () => {
      const command = String(f.json.CallbackCommand)
      const receiver = createReceiver({ sdkAppId: APP, strict: true })
      const events: Array<Record<string, unknown>> = []
      receiver.on(command as 'Group.CallbackAfterRecallMsg', (e) => {
        events.push(e)
        return verdict.allow() as never
      })
      const res = await receiver.handle({ method: 'POST', query: query(command), body: stripComments(f.text) })
      assert.equal(res.status, 200)
      assert.deepEqual(answerOf(res), OK_ANSWER)
      assert.equal(events.length, 1, 'the typed handler ran: the example matches its schema')
    })
  }

  it('Group.CallbackAfterRecallMsg example: the string EventTime becomes a number, TopicId and MsgSeqList kept', () => {
    for (const prefix of ['000-1', '001-1', '002-1']) {
      const r = decodeEvent('Group.CallbackAfterRecallMsg', structuredClone(byName(prefix)))
      assert.ok(r.ok)
      assert.equal(r.event.EventTime, 1670574414123)
      assert.deepEqual(r.event.MsgSeqList, [{ MsgSeq: 130 }])
      assert.equal(r.event.TopicId, '@TGS#_@TGS#cQVLVHIM62CJ@TOPIC#_TestTopic')
      assert.equal(r.event.Operator_Account, 'admin')
      assert.equal(r.event.Type, 'Community')
    }
  })

  it('C2C.CallbackAfterMsgWithDraw example decodes with MsgKey and UnreadMsgNum', () => {
    const r = decodeEvent('C2C.CallbackAfterMsgWithDraw', structuredClone(byName('003-1')))
    assert.ok(r.ok)
    assert.equal(r.event.MsgKey, '48374_2837546_1557481126')
    assert.equal(r.event.UnreadMsgNum, 7)
    assert.equal(r.event.To_Account, 'Jonh')
  })

  it('Group.CallbackBeforeSendMsg example decodes with its text element', () => {
    const r = decodeEvent('Group.CallbackBeforeSendMsg', structuredClone(byName('004-1')))
    assert.ok(r.ok)
    assert.deepEqual(r.event.MsgBody, [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'red packet' } }])
    assert.equal(r.event.Random, 123456)
    assert.equal(r.event.OnlineOnlyFlag, 1)
    assert.equal(r.event.EventTime, 1670574414123)
  })

  it('the after-event answers equal the documented answer', () => {
    for (const prefix of ['000-2', '001-2', '002-2', '003-2']) assert.deepEqual(byName(prefix), { ...OK_ANSWER })
  })

  it('the before-send verdicts equal the documented allow, deny, drop and rewrite answers', () => {
    const G = 'Group.CallbackBeforeSendMsg'
    assert.deepEqual(answerFor(G, verdict.allow()), byName('004-2'))
    assert.deepEqual(answerFor(G, verdict.deny()), byName('004-3'))
    assert.deepEqual(answerFor(G, verdict.drop()), byName('004-4'))
    const rewrite = byName('004-5') as { MsgBody: never; CloudCustomData: string }
    assert.deepEqual(answerFor(G, verdict.allow({ msgBody: rewrite.MsgBody, cloudCustomData: rewrite.CloudCustomData })), rewrite)
  })

  it('GroupAtInfo, MsgId in MsgSeqList and a uint32 above 2^31 decode', () => {
    const send = decodeEvent('Group.CallbackAfterSendMsg', {
      GroupId: '@TGS#2J4SZEAEL',
      From_Account: 'jared',
      MsgSeq: 4294967295,
      Random: 3998651049,
      MsgTime: 1670574414,
      MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: '@brennan hi' } }],
      GroupAtInfo: [{ GroupAtAllFlag: 0, GroupAt_Account: 'brennan' }, { GroupAtAllFlag: 1 }],
    })
    assert.ok(send.ok)
    assert.equal(send.event.GroupAtInfo?.[0]?.GroupAt_Account, 'brennan')
    const recall = decodeEvent('Group.CallbackAfterRecallMsg', {
      GroupId: 'g',
      MsgSeqList: [{ MsgSeq: 1, MsgId: '144115213033478435-1739361321-2512805311' }],
      EventTime: 1739361321000,
    })
    assert.ok(recall.ok)
    assert.equal(recall.event.MsgSeqList[0]?.MsgId, '144115213033478435-1739361321-2512805311')
  })
})
