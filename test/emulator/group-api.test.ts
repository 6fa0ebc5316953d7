import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Emulator } from '../../src/emulator/index.js'
import { createGroup, emulatorFor, read, recordingBackend, rest, restQuery, text, type Backend } from './helpers.js'

describe('emulator group REST API', () => {
  let backend: Backend
  let emulator: Emulator
  before(async () => {
    backend = await recordingBackend()
    emulator = await emulatorFor(backend)
  })
  after(async () => {
    await emulator.close()
    await backend.close()
  })

  it('creates groups of every type, with @TGS# IDs (Community @TGS#_), and refuses a taken or malformed ID', async () => {
    for (const Type of ['Work', 'Private', 'Public', 'Meeting', 'ChatRoom', 'AVChatRoom']) {
      assert.match(await createGroup(emulator, { Type, Name: Type }), /^@TGS#[A-Z0-9]{9}$/)
    }
    assert.match(await createGroup(emulator, { Type: 'Community', Name: 'c' }), /^@TGS#_@TGS#/)
    assert.equal(await createGroup(emulator, { Type: 'Public', Name: 'x', GroupId: 'my-group' }), 'my-group')
    const taken = await rest(emulator, 'group_open_http_svc/create_group', { Type: 'Public', Name: 'x', GroupId: 'my-group' })
    assert.deepEqual([taken.ActionStatus, taken.ErrorCode], ['FAIL', 10021])
    const badCommunity = await rest(emulator, 'group_open_http_svc/create_group', { Type: 'Community', Name: 'x', GroupId: 'plain' })
    assert.equal(badCommunity.ErrorCode, 10004)
    const badType = await rest(emulator, 'group_open_http_svc/create_group', { Type: 'Huge', Name: 'x' })
    assert.equal(badType.ErrorCode, 10004)
    assert.match(badType.ErrorInfo, /Type "Huge"/)
    const noName = await rest(emulator, 'group_open_http_svc/create_group', { Type: 'Public' })
    assert.equal(noName.ErrorCode, 10004)
    assert.match(noName.ErrorInfo, /Name is required/)
  })

  it('numbers messages per group from 1, and fires before- and after-send with every documented field', async () => {
    const g1 = await createGroup(emulator)
    const g2 = await createGroup(emulator, { Type: 'Work', Name: 'w' })
    const seqs = []
    for (const g of [g1, g1, g2, g1]) {
      const r = await rest(emulator, 'group_open_http_svc/send_group_msg', {
        GroupId: g,
        Random: seqs.length + 1000,
        From_Account: 'jared',
        MsgBody: text('hi'),
        CloudCustomData: 'cc',
      })
      assert.equal(r.ActionStatus, 'OK')
      assert.equal(typeof r.MsgTime, 'number')
      seqs.push(r.MsgSeq)
    }
    assert.deepEqual(seqs, [1, 2, 1, 3])
    await emulator.idle()
    const before = backend.of('Group.CallbackBeforeSendMsg').find((r) => r.body.GroupId === g2)!
    assert.deepEqual(Object.keys(before.body), [
      'CallbackCommand',
      'GroupId',
      'Type',
      'From_Account',
      'Operator_Account',
      'Random',
      'MsgId',
      'OnlineOnlyFlag',
      'MsgBody',
      'CloudCustomData',
      'EventTime',
    ])
    assert.equal(before.body.Type, 'Work')
    assert.equal(before.body.Operator_Account, 'admin')
    assert.equal(before.body.From_Account, 'jared')
    assert.ok(Number(before.body.EventTime) > 1e12, 'EventTime is in milliseconds')
    assert.equal(before.query.get('OptPlatform'), 'RESTAPI')
    assert.equal(before.query.get('ClientIP'), '127.0.0.1')
    const afterSend = backend.of('Group.CallbackAfterSendMsg').find((r) => r.body.GroupId === g2)!
    assert.equal(afterSend.body.MsgSeq, 1)
    assert.equal(afterSend.body.Random, 1002)
    assert.equal(afterSend.body.MsgId, before.body.MsgId)
    assert.ok(!('TopicId' in afterSend.body), 'no TopicId outside topics')
  })

  it('numbers topic messages per topic, carries TopicId only there, and recalls within a topic', async () => {
    const community = await createGroup(emulator, { Type: 'Community', Name: 'c', SupportTopic: 1 })
    const t1 = await rest(emulator, 'million_group_open_http_svc/create_topic', { GroupId: community, TopicName: 'one' })
    const t2 = await rest(emulator, 'group_open_http_svc/create_group_topic', {
      GroupId: community,
      TopicName: 'two',
      TopicId: `${community}@TOPIC#_two`,
    })
    assert.match(t1.TopicId as string, new RegExp(`^${community.replace(/[$^#@]/g, '\\$&')}@TOPIC#_`))
    assert.equal(t2.TopicId, `${community}@TOPIC#_two`)
    const send = (TopicId: string | undefined, Random: number) =>
      rest(emulator, 'group_open_http_svc/send_group_msg', { GroupId: community, TopicId, Random, MsgBody: text('t') })
    assert.equal((await send(t1.TopicId as string, 1)).MsgSeq, 1)
    assert.equal((await send(t1.TopicId as string, 2)).MsgSeq, 2)
    assert.equal((await send(t2.TopicId as string, 3)).MsgSeq, 1)
    assert.equal((await send(undefined, 4)).MsgSeq, 1)
    assert.equal((await send('nope', 5)).ErrorCode, 10010)
    const recall = await rest(emulator, 'group_open_http_svc/group_msg_recall', {
      GroupId: community,
      TopicId: t1.TopicId,
      MsgSeqList: [{ MsgSeq: 2 }],
    })
    assert.deepEqual(recall.RecallRetList, [{ MsgSeq: 2, RetCode: 0 }])
    await emulator.idle()
    const inTopic = backend.of('Group.CallbackAfterSendMsg').filter((r) => r.body.GroupId === community)
    assert.deepEqual(
      inTopic.map((r) => r.body.TopicId),
      [t1.TopicId, t1.TopicId, t2.TopicId, undefined],
    )
    const recalled = backend.of('Group.CallbackAfterRecallMsg').find((r) => r.body.GroupId === community)!
    assert.equal(recalled.body.TopicId, t1.TopicId)
    assert.equal(recalled.body.Type, 'Community')
    const view = await read(
      emulator,
      `/emulator/groups/${encodeURIComponent(community)}/messages?TopicId=${encodeURIComponent(t1.TopicId as string)}`,
    )
    assert.deepEqual(
      (view.body.Messages as Array<{ MsgSeq: number; Recalled: boolean }>).map((m) => [m.MsgSeq, m.Recalled]),
      [
        [1, false],
        [2, true],
      ],
    )
    const plain = await createGroup(emulator)
    const noTopics = await rest(emulator, 'million_group_open_http_svc/create_topic', { GroupId: plain, TopicName: 'x' })
    assert.equal(noTopics.ErrorCode, 10004)
  })

  it('recall: per-message RetCode, 10030 for unknown or already recalled, at most 10 per call, after-recall lists only recalled ones', async () => {
    const g = await createGroup(emulator)
    for (let i = 0; i < 3; i++)
      await rest(emulator, 'group_open_http_svc/send_group_msg', { GroupId: g, Random: i, MsgBody: text(`m${i}`) })
    const r = await rest(emulator, 'group_open_http_svc/group_msg_recall', {
      GroupId: g,
      MsgSeqList: [{ MsgSeq: 1 }, { MsgSeq: 3 }, { MsgSeq: 42 }],
      Reason: 'spam',
    })
    assert.equal(r.ActionStatus, 'OK')
    assert.deepEqual(r.RecallRetList, [
      { MsgSeq: 1, RetCode: 0 },
      { MsgSeq: 3, RetCode: 0 },
      { MsgSeq: 42, RetCode: 10030 },
    ])
    const again = await rest(emulator, 'group_open_http_svc/group_msg_recall', { GroupId: g, MsgSeqList: [{ MsgSeq: 1 }] })
    assert.deepEqual(again.RecallRetList, [{ MsgSeq: 1, RetCode: 10030 }])
    const eleven = await rest(emulator, 'group_open_http_svc/group_msg_recall', {
      GroupId: g,
      MsgSeqList: Array.from({ length: 11 }, (_, i) => ({ MsgSeq: i + 1 })),
    })
    assert.deepEqual([eleven.ActionStatus, eleven.ErrorCode], ['FAIL', 10004])
    await emulator.idle()
    const events = backend.of('Group.CallbackAfterRecallMsg').filter((e) => e.body.GroupId === g)
    assert.equal(events.length, 1, 'no callback for a call that recalled nothing')
    assert.deepEqual(
      (events[0]!.body.MsgSeqList as Array<{ MsgSeq: number }>).map((m) => m.MsgSeq),
      [1, 3],
    )
    assert.equal(events[0]!.body.Operator_Account, 'admin')
    assert.deepEqual(Object.keys(events[0]!.body), ['CallbackCommand', 'Operator_Account', 'Type', 'GroupId', 'MsgSeqList', 'EventTime'])
    const view = await read(emulator, `/emulator/group-messages?GroupId=${encodeURIComponent(g)}`)
    const msgs = view.body.Messages as Array<{ MsgSeq: number; Recalled: boolean; Recall?: { Operator_Account: string; Reason?: string } }>
    assert.deepEqual(
      msgs.map((m) => m.Recalled),
      [true, false, true],
    )
    assert.equal(msgs[0]!.Recall?.Reason, 'spam')
  })

  it('the identifier is the Operator_Account of the callbacks it causes', async () => {
    const g = await createGroup(emulator)
    await rest(
      emulator,
      'group_open_http_svc/send_group_msg',
      { GroupId: g, Random: 1, MsgBody: text('x') },
      restQuery({ identifier: 'ops_admin' }),
    )
    await emulator.idle()
    const b = backend.of('Group.CallbackBeforeSendMsg').find((r) => r.body.GroupId === g)!
    assert.equal(b.body.Operator_Account, 'ops_admin')
    assert.equal(b.body.From_Account, 'ops_admin', 'From_Account defaults to the admin')
  })

  it('refuses unknown groups, missing fields and bad bodies with 10010 / 10004 / 80002', async () => {
    const g = await createGroup(emulator)
    const cases: Array<[Record<string, unknown>, number, RegExp]> = [
      [{ GroupId: '@TGS#NOPE', Random: 1, MsgBody: text('x') }, 10010, /does not exist/],
      [{ Random: 1, MsgBody: text('x') }, 10004, /GroupId is required/],
      [{ GroupId: g, MsgBody: text('x') }, 10004, /Random is required/],
      [{ GroupId: g, Random: -1, MsgBody: text('x') }, 10004, /Random must be/],
      [{ GroupId: g, Random: 1 }, 10004, /MsgBody is required/],
      [{ GroupId: g, Random: 1, MsgBody: [] }, 10004, /non-empty array/],
      [{ GroupId: g, Random: 1, MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 5 } }] }, 10004, /Text must be a string/],
      [
        {
          GroupId: g,
          Random: 1,
          MsgBody: [
            { MsgType: 'TIMCustomElem', MsgContent: { Data: 'a' } },
            { MsgType: 'TIMCustomElem', MsgContent: { Data: 'b' } },
          ],
        },
        10004,
        /more than one TIMCustomElem/,
      ],
      [{ GroupId: g, Random: 1, MsgBody: text('x'.repeat(13_000)) }, 80002, /bytes/],
    ]
    for (const [body, code, info] of cases) {
      const r = await rest(emulator, 'group_open_http_svc/send_group_msg', body)
      assert.deepEqual([r.ActionStatus, r.ErrorCode], ['FAIL', code], JSON.stringify(body).slice(0, 80))
      assert.match(r.ErrorInfo, info)
    }
    const recall = await rest(emulator, 'group_open_http_svc/group_msg_recall', { GroupId: '@TGS#NOPE', MsgSeqList: [{ MsgSeq: 1 }] })
    assert.equal(recall.ErrorCode, 10010)
  })

  it('a resend with the same Random within 5 minutes is answered with the first MsgSeq and fires nothing', async () => {
    let now = Date.now()
    const local = await emulatorFor(backend, { now: () => now })
    try {
      const g = await createGroup(local)
      const first = await rest(local, 'group_open_http_svc/send_group_msg', { GroupId: g, Random: 77, MsgBody: text('a') })
      const dup = await rest(local, 'group_open_http_svc/send_group_msg', { GroupId: g, Random: 77, MsgBody: text('a') })
      assert.equal(dup.MsgSeq, first.MsgSeq)
      now += 5 * 60_000 + 1
      const later = await rest(local, 'group_open_http_svc/send_group_msg', { GroupId: g, Random: 77, MsgBody: text('a') })
      assert.equal(later.MsgSeq, 2)
      await local.idle()
      assert.equal(backend.of('Group.CallbackBeforeSendMsg').filter((r) => r.body.GroupId === g).length, 2)
    } finally {
      await local.close()
    }
  })

  it('ForbidCallbackControl skips the before- and/or after-send callback of that message', async () => {
    const g = await createGroup(emulator)
    await rest(emulator, 'group_open_http_svc/send_group_msg', {
      GroupId: g,
      Random: 1,
      MsgBody: text('a'),
      ForbidCallbackControl: ['ForbidBeforeSendMsgCallback'],
    })
    await rest(emulator, 'group_open_http_svc/send_group_msg', {
      GroupId: g,
      Random: 2,
      MsgBody: text('b'),
      ForbidCallbackControl: ['ForbidAfterSendMsgCallback'],
    })
    await emulator.idle()
    assert.deepEqual(
      backend
        .of('Group.CallbackBeforeSendMsg')
        .filter((r) => r.body.GroupId === g)
        .map((r) => r.body.Random),
      [2],
    )
    assert.deepEqual(
      backend
        .of('Group.CallbackAfterSendMsg')
        .filter((r) => r.body.GroupId === g)
        .map((r) => r.body.Random),
      [1],
    )
  })

  it('AVChatRoom messages report OnlineOnlyFlag 0 even when sent online-only', async () => {
    const g = await createGroup(emulator, { Type: 'AVChatRoom', Name: 'live' })
    await rest(emulator, 'group_open_http_svc/send_group_msg', { GroupId: g, Random: 1, MsgBody: text('a'), OnlineOnlyFlag: 1 })
    const p = await createGroup(emulator)
    await rest(emulator, 'group_open_http_svc/send_group_msg', { GroupId: p, Random: 1, MsgBody: text('a'), OnlineOnlyFlag: 1 })
    await emulator.idle()
    assert.equal(backend.of('Group.CallbackAfterSendMsg').find((r) => r.body.GroupId === g)!.body.OnlineOnlyFlag, 0)
    assert.equal(backend.of('Group.CallbackAfterSendMsg').find((r) => r.body.GroupId === p)!.body.OnlineOnlyFlag, 1)
  })
})
