/**
 * Every other documented command, with the fields its page (or the SDKs that model it) lists,
 * under Tencent's names. A field is required (`req`) only where every request example of the
 * command in test/fixtures/callbacks has it (test/protocol/corpus.test.ts checks that); commands
 * without an example there require nothing. Unknown fields are always kept.
 */
import { COMMANDS } from '../commands.js'
import {
  anyObject,
  arr,
  defineCommand,
  int,
  millis,
  obj,
  ref,
  req,
  str,
  typeNameOf,
  uint32,
  type CommandSchema,
  type Field,
  type Schema,
} from './dsl.js'
import { msgBody } from './elements.js'
import { MESSAGE_FAMILY_COMMANDS } from './messages.js'

const members = arr(ref('MemberItem'))
const pairList = (item: Record<string, Schema>) => arr(obj(item))
const groupBase = { GroupId: str(), Type: str('group type'), Operator_Account: str(), EventTime: millis() }
/** The same, with the group id required: every example of these commands has it. */
const groupBaseReq = { ...groupBase, GroupId: req(str()) }
const topicBase = {
  GroupId: str(),
  TopicId: str(),
  Operator_Account: str(),
  Type: str('group type: Community'),
  Name: str('topic name'),
  EventTime: millis(),
}
const officialBase = { Official_Account: str('official account id, "@TOA#_…"'), Operator_Account: str(), EventTime: millis() }
const subscribers = arr(obj({ Subscriber_Account: req(str()) }), 'the subscribers')
const extension = {
  OperateType: int('1 set, 2 delete, 3 clear'),
  ExtensionList: arr(obj({ Key: str(), Value: str(), Seq: int() })),
  Seq: int(),
  EventTime: millis(),
}

const fieldsOf: Record<string, Record<string, Schema | Field>> = {
  'Alert.RequestOverLimit': { ServiceName: str(), Command: str(), Request: int(), Limit: int(), EventTime: millis() },
  'State.StateChange': {
    Info: obj({ Action: str('Login, Logout, Disconnect'), To_Account: str(), Reason: str() }),
    KickedDevice: arr(obj({ Platform: str() })),
    EventTime: millis(),
  },
  'Profile.CallbackPortraitSet': {
    Operator_Account: str(),
    From_Account: str(),
    ProfileItem: arr(obj({ Tag: str(), Value: {} })),
    EventTime: millis(),
  },
  'Sns.CallbackPrevFriendAdd': {
    Requester_Account: req(str('who made the request (an admin for REST)')),
    From_Account: req(str('who asks to add the friends')),
    FriendItem: req(
      arr(
        obj({ To_Account: req(str()), Remark: str(), GroupName: str(), AddSource: str(), AddWording: str() }),
        'one item per friend to add',
      ),
    ),
    AddType: str('Add_Type_Single or Add_Type_Both'),
    ForceAddFlags: int('1 = added by an admin without asking'),
    EventTime: millis(),
  },
  'Sns.CallbackPrevFriendResponse': {
    Requester_Account: req(str()),
    From_Account: req(str('who answers the requests')),
    ResponseFriendItem: req(
      arr(
        obj({
          To_Account: req(str()),
          Remark: str(),
          TagName: str(),
          ResponseAction: str('Response_Action_AgreeAndAdd, Response_Action_Agree or Response_Action_Reject'),
        }),
        'one item per answered request',
      ),
    ),
    EventTime: millis(),
  },
  'Sns.CallbackFriendAdd': {
    ClientCmd: str(),
    Admin_Account: str(),
    ForceFlag: int(),
    PairList: pairList({ From_Account: str(), To_Account: str(), Initiator_Account: str() }),
    EventTime: millis(),
  },
  'Sns.CallbackFriendDelete': { PairList: pairList({ From_Account: str(), To_Account: str() }), EventTime: millis() },
  'Sns.CallbackBlackListAdd': { PairList: pairList({ From_Account: str(), To_Account: str() }), EventTime: millis() },
  'Sns.CallbackBlackListDelete': { PairList: pairList({ From_Account: str(), To_Account: str() }), EventTime: millis() },
  'Follow.CallbackAfterFollowAdd': {
    From_Account: req(str('who follows')),
    FollowList: req(arr(obj({ To_Account: req(str()) }), 'the users followed')),
    EventTime: millis(),
  },
  'Follow.CallbackAfterFollowDelete': {
    From_Account: req(str('who unfollows')),
    To_Account: req(arr(str(), 'the users unfollowed (an array, as in the follow_delete REST call)')),
    EventTime: millis(),
  },
  'C2C.CallbackAfterC2CMsgExtension': { From_Account: str(), To_Account: str(), MsgKey: str(), ...extension },
  'C2C.CallbackAfterMsgReadReceipt': {
    Operator_Account: str(),
    Peer_Account: str(),
    C2CMsgInfo: arr(obj({ From_Account: str(), To_Account: str(), MsgKey: str(), MsgId: str() })),
    EventTime: millis(),
  },
  'C2C.CallbackAfterMsgReadAll': {
    Report_Account: str(),
    GroupReadInfo: arr(obj({ GroupId: str(), MsgSeq: uint32() })),
    EventTime: millis(),
  },
  'Group.CallbackOnDailyGroupQuotaAlarm': {
    QuotaUsed: int('groups created today (net)'),
    Quota: int('the daily limit'),
    EventTime: millis(),
  },
  'Group.CallbackAfterGroupMsgExtension': { GroupId: str(), MsgSeq: uint32(), ...extension },
  'Group.CallbackBeforeCreateGroup': {
    Operator_Account: req(str()),
    Owner_Account: str(),
    Type: str(),
    Name: str(),
    CreateGroupNum: int('groups of this type the user created (newer pages)'),
    CreatedNum: int('the same, under its older name'),
    MemberList: members,
    EventTime: millis(),
  },
  'Group.CallbackAfterCreateGroup': {
    ...groupBaseReq,
    Owner_Account: str(),
    Name: str(),
    MemberList: members,
    UserDefinedDataList: arr(obj({ Key: str(), Value: str() })),
    InviteOption: str('seen in captured traffic, e.g. "NeedPermission"'),
  },
  'Group.CallbackBeforeApplyJoinGroup': { GroupId: str(), Type: str(), Requestor_Account: str(), EventTime: millis() },
  'Group.CallbackBeforeInviteJoinGroup': { ...groupBase, DestinationMembers: members },
  'Group.CallbackAfterNewMemberJoin': { ...groupBaseReq, JoinType: str(), NewMemberList: req(members) },
  'Group.CallbackAfterMemberExit': { ...groupBase, ExitType: str(), ExitMemberList: members },
  'Group.CallbackAfterGroupFull': { GroupId: str(), EventTime: millis() },
  'Group.CallbackAfterGroupDestroyed': { ...groupBase, Owner_Account: str(), Name: str(), MemberList: members },
  'Group.CallbackAfterGroupInfoChanged': {
    ...groupBase,
    Name: str(),
    Introduction: str(),
    Notification: str(),
    FaceUrl: str(),
  },
  'Group.CallbackOnMemberStateChange': {
    GroupId: str(),
    EventType: str('Online or Offline'),
    EventCause: str('HeartbeatInterrupt, HeartbeatRecover, Join or Quit (newer pages)'),
    MemberList: arr(obj({ Member_Account: str(), Reason: str() })),
    EventTime: millis(),
  },
  'Group.CallbackBeforeCreateTopic': { ...topicBase, Operator_Account: req(str()), Name: req(str('topic name')) },
  'Group.CallbackAfterCreateTopic': {
    ...topicBase,
    Owner_Account: str('owner of the group'),
    UserDefinedDataList: arr(obj({ Key: str(), Value: str() }), 'custom topic fields set at creation'),
  },
  'Group.CallbackAfterTopicDestroyed': {
    GroupId: str(),
    Type: str('group type: Community'),
    TopicIdList: arr(str()),
    Operator_Account: str(),
    EventTime: millis(),
  },
  'Group.CallbackAfterTopicInfoChanged': { ...topicBase, Introduction: str(), Notification: str(), FaceUrl: str() },
  'Group.CallbackAfterMemberFieldChanged': {
    ...groupBaseReq,
    Member_Account: str('the member whose profile changed (the page version that sends one member at the top level)'),
    Role: str('the new role: Admin or Member'),
    NameCard: str('the new group name card'),
    MemberList: arr(anyObject(), 'the changed members (the page version that lists them)'),
  },
  'Group.CallbackAfterGroupAttrChanged': {
    ...groupBaseReq,
    OptionType: str('set, modify, clear or delete'),
    GroupAttr: req(arr(obj({ key: str(), value: str() }), 'the custom attributes')),
  },
  'Group.CallbackAfterReadReceipt': { GroupId: str(), Type: str(), GroupMsgReceiptList: arr(anyObject()), EventTime: millis() },
  'Group.CallbackAfterChangeGroupOwner': { ...groupBase, NewOwner_Account: str(), OldOwner_Account: str() },
  'ContentCallback.ResultNotify': {
    Scene: str(),
    From_Account: str(),
    To_Account: str(),
    GroupId: str(),
    ContentType: str(),
    TextContent: str(),
    FileURL: str(),
    MsgID: str('MsgKey for one-to-one, MsgSeq for group messages'),
    Result: int(),
    EventTime: millis(),
  },
  'Bot.OnC2CMessage': {
    From_Account: str(),
    To_Account: str(),
    MsgSeq: uint32(),
    MsgRandom: uint32(),
    MsgTime: int(),
    MsgKey: str(),
    MsgBody: msgBody(),
    CloudCustomData: str(),
    SendMsgResult: int('0 = delivered, otherwise an error code'),
    ErrorInfo: str(),
    OnlineOnlyFlag: int(),
    EventTime: millis(),
  },
  'Bot.OnGroupMessage': {
    GroupId: str(),
    Type: str(),
    From_Account: str(),
    Operator_Account: str(),
    Random: uint32(),
    MsgSeq: uint32(),
    MsgTime: int(),
    MsgBody: msgBody(),
    CloudCustomData: str(),
    AtRobots_Account: arr(str()),
    OnlineOnlyFlag: int(),
    EventTime: millis(),
  },
  'Chatbot.OnC2CSignalMessage': {
    From_Account: str(),
    To_Account: str(),
    MsgSeq: uint32(),
    MsgRandom: uint32(),
    MsgKey: str(),
    Data: str(),
    EventTime: millis(),
  },
  'OfficialAccount.CallbackBeforeCreateOfficialAccount': { ...officialBase, Name: str(), Owner_Account: str() },
  'OfficialAccount.CallbackAfterCreateOfficialAccount': { ...officialBase, Name: str(), Owner_Account: str() },
  'OfficialAccount.CallbackAfterOfficialAccountInfoChanged': {
    ...officialBase,
    Name: str(),
    Introduction: str(),
    FaceUrl: str(),
    Organization: str(),
  },
  'OfficialAccount.CallbackAfterOfficialAccountDestroyed': { ...officialBase, Owner_Account: str(), Name: str() },
  'OfficialAccount.CallbackBeforeAddSubscriber': { ...officialBase, SubscribeAccountList: subscribers },
  'OfficialAccount.CallbackAfterAddSubscriber': { ...officialBase, SubscribeAccountList: subscribers },
  'OfficialAccount.CallbackAfterOfficialAccountFull': { ...officialBase },
  'OfficialAccount.CallbackAfterDeleteSubscriber': { ...officialBase, SubscribeAccountList: subscribers },
  'OfficialAccount.CallbackBeforeSendMsg': {
    ...officialBase,
    MsgKey: str(),
    MsgTime: int(),
    OnlineOnlyFlag: int(),
    MsgBody: msgBody(),
    CloudCustomData: str(),
  },
  'OfficialAccount.CallbackAfterSendMsg': {
    ...officialBase,
    MsgKey: str(),
    MsgTime: int(),
    OnlineOnlyFlag: int(),
    MsgBody: msgBody(),
    CloudCustomData: str(),
  },
  'OfficialAccount.CallbackAfterMsgWithDraw': { ...officialBase, WithdrawMsgList: arr(obj({ MsgKey: str() })) },
  'Push.OfflinePush': { Events: arr(anyObject(), '1–100 batched push events') },
  'Push.AllMemberPush': { Events: arr(anyObject(), '1–100 batched push events') },
}

/**
 * The fields each command requires: those every request example of it in test/fixtures/callbacks
 * has and that say what the event is about (who, which group or account). Fields every example has
 * but that one page version or another omits (EventTime, Type, Operator_Account) stay optional.
 * A command missing here has no example, and requires nothing.
 */
const REQUIRED: Record<string, readonly string[]> = {
  'Alert.RequestOverLimit': ['ServiceName', 'Command'],
  'State.StateChange': ['Info'],
  'Profile.CallbackPortraitSet': ['From_Account', 'ProfileItem'],
  'Sns.CallbackFriendAdd': ['PairList'],
  'Sns.CallbackFriendDelete': ['PairList'],
  'Sns.CallbackBlackListAdd': ['PairList'],
  'Sns.CallbackBlackListDelete': ['PairList'],
  'C2C.CallbackAfterC2CMsgExtension': ['From_Account', 'To_Account', 'MsgKey', 'OperateType'],
  'C2C.CallbackAfterMsgReadReceipt': ['Peer_Account', 'C2CMsgInfo'],
  'Group.CallbackOnDailyGroupQuotaAlarm': ['QuotaUsed', 'Quota'],
  'Group.CallbackAfterGroupMsgExtension': ['GroupId', 'MsgSeq', 'OperateType'],
  'Group.CallbackBeforeApplyJoinGroup': ['GroupId', 'Requestor_Account'],
  'Group.CallbackBeforeInviteJoinGroup': ['GroupId', 'DestinationMembers'],
  'Group.CallbackAfterMemberExit': ['GroupId', 'ExitMemberList'],
  'Group.CallbackAfterGroupFull': ['GroupId'],
  'Group.CallbackAfterGroupDestroyed': ['GroupId'],
  'Group.CallbackAfterGroupInfoChanged': ['GroupId'],
  'Group.CallbackOnMemberStateChange': ['GroupId', 'EventType', 'MemberList'],
  'Group.CallbackAfterCreateTopic': ['GroupId', 'TopicId'],
  'Group.CallbackAfterTopicDestroyed': ['GroupId', 'TopicIdList'],
  'Group.CallbackAfterTopicInfoChanged': ['GroupId'],
  'Group.CallbackAfterReadReceipt': ['GroupId', 'GroupMsgReceiptList'],
  'Group.CallbackAfterChangeGroupOwner': ['GroupId', 'NewOwner_Account'],
  'Bot.OnC2CMessage': ['From_Account', 'To_Account', 'MsgBody'],
  'Bot.OnGroupMessage': ['GroupId', 'From_Account', 'MsgBody'],
  'OfficialAccount.CallbackBeforeCreateOfficialAccount': ['Owner_Account'],
  'OfficialAccount.CallbackAfterCreateOfficialAccount': ['Official_Account'],
  'OfficialAccount.CallbackAfterOfficialAccountInfoChanged': ['Official_Account'],
  'OfficialAccount.CallbackAfterOfficialAccountDestroyed': ['Official_Account'],
  'OfficialAccount.CallbackBeforeAddSubscriber': ['Official_Account', 'SubscribeAccountList'],
  'OfficialAccount.CallbackAfterAddSubscriber': ['Official_Account', 'SubscribeAccountList'],
  'OfficialAccount.CallbackAfterOfficialAccountFull': ['Official_Account'],
  'OfficialAccount.CallbackAfterDeleteSubscriber': ['Official_Account', 'SubscribeAccountList'],
  'OfficialAccount.CallbackBeforeSendMsg': ['Official_Account', 'MsgBody'],
  'OfficialAccount.CallbackAfterSendMsg': ['Official_Account', 'MsgBody'],
  'OfficialAccount.CallbackAfterMsgWithDraw': ['Official_Account', 'WithdrawMsgList'],
  'Push.OfflinePush': ['Events'],
}

function withRequired(command: string, fields: Record<string, Schema | Field>): Record<string, Schema | Field> {
  const out = { ...fields }
  for (const name of REQUIRED[command] ?? []) {
    const f = out[name]
    if (f === undefined) throw new Error(`schemas/others.ts: ${command} requires ${name}, which it does not list`)
    if (!('schema' in f && 'required' in f)) out[name] = req(f as Schema)
  }
  return out
}

/** Schemas for every catalogued command outside the message family. */
export const otherCommands: CommandSchema[] = COMMANDS.filter((c) => !MESSAGE_FAMILY_COMMANDS.includes(c.command)).map((c) => {
  const listed = fieldsOf[c.command]
  if (listed === undefined) throw new Error(`schemas/others.ts: no fields for ${c.command}`)
  const fields = withRequired(c.command, listed)
  return defineCommand({
    command: c.command,
    typeName: typeNameOf(c.command),
    description: c.summary.charAt(0).toUpperCase() + c.summary.slice(1) + '.',
    source: 'https://cloud.tencent.com/document/product/269/1523 (command list) and the command page',
    fields,
  })
})
