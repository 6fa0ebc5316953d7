/**
 * The message family: full schemas of the send, recall, edit and read callbacks.
 * `req()` marks the fields every request example of the command in test/fixtures/callbacks has
 * (test/protocol/corpus.test.ts checks it); everything else is optional, because Tencent's page
 * versions and real traffic disagree on which fields appear. A command without an example there
 * (the edit callbacks) requires nothing.
 */
import { arr, defineCommand, int, millis, ref, req, str, uint32, type CommandSchema } from './dsl.js'
import { msgBody } from './elements.js'

const groupType = str('group type: Public, Work/Private, Meeting/ChatRoom, AVChatRoom, Community (open-ended)')
const topicId = str('topic id, only for messages in a topic of a topic-enabled Community; absent or "" otherwise')
const msgId = str('client message id, "{senderTinyId}-{clientTime}-{random}" (2025 pages)')
const onlineOnly = int('1 = online-only message, else 0; always 0 for AVChatRoom')
const cloudCustomData = str('message custom data')

const groupSendFields = {
  GroupId: req(str('group id')),
  Type: groupType,
  From_Account: req(str('sender UserID')),
  Operator_Account: str('who issued the request; the admin identifier for REST sends'),
  Random: uint32('the 32-bit random of the send request'),
  MsgId: msgId,
  OnlineOnlyFlag: onlineOnly,
  MsgPriority: str('High, Normal or Low, as the sender set it (newer pages)'),
  MsgBody: req(msgBody()),
  CloudCustomData: cloudCustomData,
  TopicId: topicId,
  EventTime: millis(),
}

const c2cSendFields = {
  From_Account: req(str('sender UserID')),
  To_Account: req(str('recipient UserID')),
  MsgSeq: uint32('sender-chosen sequence; not unique on its own'),
  MsgRandom: uint32(),
  MsgTime: int('send time, seconds'),
  MsgKey: str('unique key of the message, "{MsgSeq}_{MsgRandom}_{MsgTime}"; treat as opaque'),
  MsgId: msgId,
  OnlineOnlyFlag: onlineOnly,
  MsgBody: req(msgBody()),
  CloudCustomData: cloudCustomData,
  EventTime: millis(),
}

export const messageCommands: CommandSchema[] = [
  defineCommand({
    command: 'Group.CallbackBeforeSendMsg',
    typeName: 'GroupBeforeSendMsgEvent',
    description: 'Before a group message is delivered. Answer allow, deny, silent drop or rewrite within 2 s.',
    source: 'https://cloud.tencent.com/document/product/269/1619 ; test/fixtures/source-docs/004',
    fields: groupSendFields,
  }),
  defineCommand({
    command: 'Group.CallbackAfterSendMsg',
    typeName: 'GroupAfterSendMsgEvent',
    description: 'After a group message was sent.',
    source: 'https://cloud.tencent.com/doc/product/269/2661',
    fields: {
      ...groupSendFields,
      MsgSeq: uint32(
        'per-group sequence from 1; (GroupId, TopicId, MsgSeq) identifies the message; captured AVChatRoom traffic comes without it',
      ),
      MsgTime: int('send time, seconds'),
      GroupAtInfo: arr(ref('GroupAtItem'), '@-mentions'),
    },
  }),
  defineCommand({
    command: 'Group.CallbackAfterRecallMsg',
    typeName: 'GroupAfterRecallMsgEvent',
    description: 'After group messages were recalled (client or REST group_msg_recall).',
    source: 'https://cloud.tencent.com/document/product/269/73141 ; test/fixtures/source-docs/000–002',
    fields: {
      Operator_Account: str('UserID of whoever recalled; the admin identifier for REST'),
      Type: groupType,
      GroupId: req(str()),
      MsgSeqList: req(arr(ref('MsgSeqItem'), 'the recalled messages')),
      TopicId: topicId,
      EventTime: millis(),
    },
  }),
  defineCommand({
    command: 'Group.CallbackSendMsgException',
    typeName: 'GroupSendMsgExceptionEvent',
    description: 'After a group message failed to be delivered (bad parameters, rate limit, filter, muted sender).',
    source: 'https://intl.cloud.tencent.com/document/product/1047/49462',
    fields: {
      ...groupSendFields,
      From_Account: str('sender UserID'),
      MsgBody: msgBody(),
      ErrorCode: int('why delivery failed, e.g. 10023'),
      ErrorInfo: str(),
    },
  }),
  defineCommand({
    command: 'Group.CallbackAfterModifyMsg',
    typeName: 'GroupAfterModifyMsgEvent',
    description: 'After a group message was edited.',
    source: 'https://cloud.tencent.com/document/product/269/129193',
    fields: {
      Operator_Account: str(),
      GroupId: str(),
      TopicId: topicId,
      MsgSeq: uint32(),
      MsgBody: msgBody('the new body'),
      CloudCustomData: cloudCustomData,
      EventTime: millis(),
    },
  }),
  defineCommand({
    command: 'C2C.CallbackBeforeSendMsg',
    typeName: 'C2CBeforeSendMsgEvent',
    description: 'Before a one-to-one message is delivered. Answer allow, deny, silent drop or rewrite within 2 s.',
    source: 'https://cloud.tencent.cn/document/product/269/1632',
    fields: {
      ...c2cSendFields,
      FriendShip: {
        description: 'the relation between sender and recipient (newer pages); its type is not documented, so it is kept as received',
      },
    },
  }),
  defineCommand({
    command: 'C2C.CallbackAfterSendMsg',
    typeName: 'C2CAfterSendMsgEvent',
    description: 'After a one-to-one message was sent — also when delivery failed (see SendMsgResult).',
    source: 'https://cloud.tencent.cn/document/product/269/2716',
    fields: {
      ...c2cSendFields,
      MsgKey: str('unique key of the message; treat as opaque (older pages send none)'),
      SendMsgResult: int('0 = delivered, otherwise an error code'),
      ErrorInfo: str('"send msg succeed" on success'),
      UnreadMsgNum: int("recipient's total unread one-to-one messages; -1 when delivery failed"),
    },
  }),
  defineCommand({
    command: 'C2C.CallbackAfterMsgWithDraw',
    typeName: 'C2CAfterMsgWithDrawEvent',
    description: 'After a one-to-one message was withdrawn (client or REST admin_msgwithdraw).',
    source: 'https://cloud.tencent.cn/document/product/269/61697 ; test/fixtures/source-docs/003',
    fields: {
      From_Account: req(str('sender of the withdrawn message')),
      To_Account: req(str('recipient')),
      MsgKey: req(str('unique key of the withdrawn message')),
      UnreadMsgNum: int("To_Account's total unread one-to-one messages (older pages)"),
      EventTime: millis('newer pages'),
    },
  }),
  defineCommand({
    command: 'C2C.CallbackAfterMsgReport',
    typeName: 'C2CAfterMsgReportEvent',
    description: 'After a one-to-one read report.',
    source: 'https://cloud.tencent.com/document/product/269/61696',
    fields: {
      Report_Account: req(str('who read')),
      Peer_Account: req(str('the conversation peer')),
      LastReadTime: int('seconds; everything before is read'),
      UnreadMsgNum: int(),
      EventTime: millis(),
    },
  }),
  defineCommand({
    command: 'C2C.CallbackAfterModifyMsg',
    typeName: 'C2CAfterModifyMsgEvent',
    description: 'After a one-to-one message was edited.',
    source: 'https://cloud.tencent.com/document/product/269/128224',
    fields: {
      Operator_Account: str(),
      From_Account: str(),
      To_Account: str(),
      MsgRandom: uint32(),
      MsgSeq: uint32(),
      MsgTime: int('seconds'),
      MsgKey: str(),
      MsgBody: msgBody('the new body'),
      CloudCustomData: cloudCustomData,
      EventTime: millis(),
    },
  }),
]

export const MESSAGE_FAMILY_COMMANDS = messageCommands.map((c) => c.command)
