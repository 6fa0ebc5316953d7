/**
 * Every callback the emulator sends for its REST calls has the shape of Tencent's: it passes the
 * receiver in strict mode, it carries every field that all request examples of its command in
 * test/fixtures/callbacks carry, and it sends no field the command's schema does not know.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Emulator } from '../../src/emulator/index.js'
import { commandSchemas } from '../../src/protocol/schemas/index.js'
import { createReceiver } from '../../src/receiver/index.js'
import { isBeforeCommand } from '../../src/protocol/commands.js'
import { verdict } from '../../src/protocol/verdict.js'
import { answerOf, query } from '../helpers/callbacks.js'
import { corpusByCommand, fieldsInEvery } from '../helpers/corpus.js'
import { APP, createGroup, emulatorFor, recordingBackend, rest, text, type Backend } from './helpers.js'

describe('the emulator sends what Tencent sends', () => {
  let backend: Backend
  let emulator: Emulator
  before(async () => {
    backend = await recordingBackend()
    emulator = await emulatorFor(backend)
    // Every REST call that fires a callback, in the richest form Tencent's examples show: a message
    // in a topic of a Community, with CloudCustomData, and one in an AVChatRoom.
    const community = await createGroup(emulator, { Type: 'Community', Name: 'c', SupportTopic: 1 })
    const topic = await rest(emulator, 'million_group_open_http_svc/create_topic', { GroupId: community, TopicName: 'TestTopic' })
    assert.equal(topic.ActionStatus, 'OK', JSON.stringify(topic))
    const TopicId = topic.TopicId as string
    const sent = await rest(emulator, 'group_open_http_svc/send_group_msg', {
      GroupId: community,
      TopicId,
      Random: 123456,
      From_Account: 'jared',
      MsgBody: text('red packet'),
      CloudCustomData: 'cc',
    })
    assert.equal(sent.ActionStatus, 'OK', JSON.stringify(sent))
    const recalled = await rest(emulator, 'group_open_http_svc/group_msg_recall', {
      GroupId: community,
      TopicId,
      MsgSeqList: [{ MsgSeq: sent.MsgSeq }],
    })
    assert.equal(recalled.ActionStatus, 'OK', JSON.stringify(recalled))
    const room = await createGroup(emulator, { Type: 'AVChatRoom', Name: 'live' })
    assert.equal(
      (
        await rest(emulator, 'group_open_http_svc/send_group_msg', {
          GroupId: room,
          Random: 7,
          From_Account: 'jared',
          MsgBody: text('hi'),
          CloudCustomData: 'cc',
        })
      ).ActionStatus,
      'OK',
    )
    const c2c = await rest(emulator, 'openim/sendmsg', {
      From_Account: 'jared',
      To_Account: 'Jonh',
      MsgRandom: 2837546,
      MsgBody: text('red packet'),
      CloudCustomData: 'cc',
    })
    assert.equal(c2c.ActionStatus, 'OK', JSON.stringify(c2c))
    const withdrawn = await rest(emulator, 'openim/admin_msgwithdraw', { From_Account: 'jared', To_Account: 'Jonh', MsgKey: c2c.MsgKey })
    assert.equal(withdrawn.ActionStatus, 'OK', JSON.stringify(withdrawn))
    await emulator.idle()
  })
  after(async () => {
    await emulator.close()
    await backend.close()
  })

  const corpus = corpusByCommand()

  it('fires the six callbacks of its REST API', () => {
    assert.deepEqual([...new Set(backend.requests.map((r) => r.command))].sort(), [
      'C2C.CallbackAfterMsgWithDraw',
      'C2C.CallbackAfterSendMsg',
      'C2C.CallbackBeforeSendMsg',
      'Group.CallbackAfterRecallMsg',
      'Group.CallbackAfterSendMsg',
      'Group.CallbackBeforeSendMsg',
    ])
  })

  it('each callback passes the receiver in strict mode', async () => {
    for (const r of backend.requests) {
      const receiver = createReceiver({ sdkAppId: APP, strict: true })
      let handled = 0
      receiver.on(
        r.command as 'Group.CallbackAfterSendMsg',
        (() => {
          handled++
          return isBeforeCommand(r.command) ? verdict.allow() : undefined
        }) as never,
      )
      const res = await receiver.handle({ method: 'POST', query: query(r.command), body: JSON.stringify(r.body) })
      assert.equal(res.status, 200, `${r.command}: ${answerOf(res).ErrorInfo}`)
      assert.equal(handled, 1, r.command)
    }
  })

  it('each callback has every field that all the corpus examples of its command have', () => {
    for (const r of backend.requests) {
      const examples = corpus.get(r.command) ?? []
      assert.ok(examples.length > 0, `the corpus has an example of ${r.command}`)
      let expected = fieldsInEvery(examples)
      // TopicId exists only in a topic; the AVChatRoom message is sent outside one.
      if (r.body.Type === 'AVChatRoom') expected = new Set([...expected].filter((f) => f !== 'TopicId'))
      const missing = [...expected].filter((f) => !(f in r.body))
      assert.deepEqual(missing, [], `${r.command} (${String(r.body.Type ?? 'c2c')}) lacks what Tencent's examples all have`)
    }
  })

  it('each callback sends only fields its command documents', () => {
    for (const r of backend.requests) {
      const known = new Set(['CallbackCommand', ...Object.keys(commandSchemas.find((c) => c.command === r.command)!.fields)])
      assert.deepEqual(
        Object.keys(r.body).filter((f) => !known.has(f)),
        [],
        r.command,
      )
    }
  })
})
