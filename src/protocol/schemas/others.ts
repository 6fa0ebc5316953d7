/**
 * Every other documented command, with the fields its page (or the SDKs that model it) lists.
 * All fields are optional: these events are decoded, routed and logged, and unknown fields are
 * kept, but timhook does not depend on any of them.
 */
import { COMMANDS } from '../commands.js'
import { anyObject, arr, defineCommand, int, millis, obj, ref, str, typeNameOf, uint32, type CommandSchema, type Schema } from './dsl.js'
import { msgBody } from './elements.js'
import { MESSAGE_FAMILY_COMMANDS } from './messages.js'

const members = arr(ref('MemberItem'))
const pairList = (item: Record<string, Schema>) => arr(obj(item))
const groupBase = { GroupId: str(), Type: str('group type'), Operator_Account: str(), EventTime: millis() }
const topicBase = { GroupId: str(), TopicId: str(), Operator_Account: str(), EventTime: millis() }
const officialBase = { Official_Account: str('official account id, "@TOA#_…"'), Operator_Account: str(), EventTime: millis() }
const extension = {
  OperateType: int('1 set, 2 delete, 3 clear'),
  ExtensionList: arr(obj({ Key: str(), Value: str(), Seq: int() })),
  Seq: int(),
  EventTime: millis(),
}

const fieldsOf: Record<string, Record<string, Schema>> = {
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
    Requester_Account: str(),
    From_Account: str(),
    AddType: str(),
    ForceAddFlags: int(),
    PairList: pairList({ From_Account: str(), To_Account: str(), Remark: str(), GroupName: str(), AddSource: str(), AddWording: str() }),
    EventTime: millis(),
  },
  'Sns.CallbackPrevFriendResponse': {
    Requester_Account: str(),
    From_Account: str(),
    PairList: pairList({ From_Account: str(), To_Account: str(), Remark: str(), TagName: str(), ResponseAction: str() }),
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
  'Follow.CallbackAfterFollowAdd': { From_Account: str(), To_Account: str(), EventTime: millis() },
  'Follow.CallbackAfterFollowDelete': { From_Account: str(), To_Account: str(), EventTime: millis() },
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
  'Group.CallbackOnDailyGroupQuotaAlarm': { EventTime: millis() },
  'Group.CallbackAfterGroupMsgExtension': { GroupId: str(), MsgSeq: uint32(), ...extension },
  'Group.CallbackBeforeCreateGroup': {
    Operator_Account: str(),
    Owner_Account: str(),
    Type: str(),
    Name: str(),
    CreateGroupNum: int(),
    MemberList: members,
    EventTime: millis(),
  },
  'Group.CallbackAfterCreateGroup': {
    ...groupBase,
    Owner_Account: str(),
    Name: str(),
    MemberList: members,
    UserDefinedDataList: arr(obj({ Key: str(), Value: str() })),
  },
  'Group.CallbackBeforeApplyJoinGroup': { GroupId: str(), Type: str(), Requestor_Account: str(), EventTime: millis() },
  'Group.CallbackBeforeInviteJoinGroup': { ...groupBase, DestinationMembers: members },
  'Group.CallbackAfterNewMemberJoin': { ...groupBase, JoinType: str(), NewMemberList: members },
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
    MemberList: arr(obj({ Member_Account: str(), Reason: str() })),
    EventTime: millis(),
  },
  'Group.CallbackBeforeCreateTopic': { ...topicBase, TopicName: str() },
  'Group.CallbackAfterCreateTopic': { ...topicBase, TopicName: str() },
  'Group.CallbackAfterTopicDestroyed': { GroupId: str(), TopicIdList: arr(str()), Operator_Account: str(), EventTime: millis() },
  'Group.CallbackAfterTopicInfoChanged': { ...topicBase, TopicName: str(), Introduction: str(), Notification: str(), FaceUrl: str() },
  'Group.CallbackAfterMemberFieldChanged': { ...groupBase, MemberList: arr(anyObject()) },
  'Group.CallbackAfterGroupAttrChanged': { ...groupBase, GroupAttribute: arr(obj({ key: str(), value: str() })) },
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
  'OfficialAccount.CallbackAfterOfficialAccountInfoChanged': { ...officialBase },
  'OfficialAccount.CallbackAfterOfficialAccountDestroyed': { ...officialBase },
  'OfficialAccount.CallbackBeforeAddSubscriber': { ...officialBase, Subscriber_Account: str() },
  'OfficialAccount.CallbackAfterAddSubscriber': { ...officialBase, Subscriber_Account: str() },
  'OfficialAccount.CallbackAfterOfficialAccountFull': { ...officialBase },
  'OfficialAccount.CallbackAfterDeleteSubscriber': { ...officialBase, Subscriber_Account: str() },
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

/** Schemas for every catalogued command outside the message family. */
export const otherCommands: CommandSchema[] = COMMANDS.filter((c) => !MESSAGE_FAMILY_COMMANDS.includes(c.command)).map(
  (c) => {
    const fields = fieldsOf[c.command]
    if (fields === undefined) throw new Error(`schemas/others.ts: no fields for ${c.command}`)
    return defineCommand({
      command: c.command,
      typeName: typeNameOf(c.command),
      description: c.summary.charAt(0).toUpperCase() + c.summary.slice(1) + '.',
      source: 'https://cloud.tencent.com/document/product/269/1523 (command list) and the command page',
      fields,
    })
  },
)
