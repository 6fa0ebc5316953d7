/**
 * The catalogue of every `CallbackCommand` Tencent Cloud IM documents (its command list pages,
 * 269/1523 and 1047/34355; test/fixtures/command-list.txt).
 *
 * `phase` says whether the app can intervene (`before`: IM acts on the answer) or is only
 * notified (`after`: IM ignores the answer). `family` groups commands for routing and policy:
 * `group` and `c2c` are the message families; everything else is `other`.
 *
 * The list is open-ended — Tencent keeps adding commands — so nothing in timhook rejects a
 * command that is missing here: unknown commands are answered OK and reach catch-all listeners.
 */
export type CommandPhase = 'before' | 'after'
export type CommandFamily = 'group' | 'c2c' | 'other'

export interface CommandInfo {
  readonly command: string
  readonly phase: CommandPhase
  readonly family: CommandFamily
  /** Short description, from the command list page (CMD-ZH / CMD-EN). */
  readonly summary: string
}

const b = 'before' as const
const a = 'after' as const

// [command, phase, summary]; the family follows from the prefix (see familyOf).
const table: ReadonlyArray<readonly [string, CommandPhase, string]> = [
  ['Alert.RequestOverLimit', a, 'REST API over-frequency alarm'],
  ['State.StateChange', a, 'login, logout, disconnect or custom status change'],
  ['Profile.CallbackPortraitSet', a, 'after a profile update'],
  ['Sns.CallbackPrevFriendAdd', b, 'before adding a friend'],
  ['Sns.CallbackPrevFriendResponse', b, 'before answering a friend request'],
  ['Sns.CallbackFriendAdd', a, 'after a friend was added'],
  ['Sns.CallbackFriendDelete', a, 'after a friend was deleted'],
  ['Sns.CallbackBlackListAdd', a, 'after a block-list add'],
  ['Sns.CallbackBlackListDelete', a, 'after a block-list removal'],
  ['Follow.CallbackAfterFollowAdd', a, 'after a follow'],
  ['Follow.CallbackAfterFollowDelete', a, 'after an unfollow'],
  ['C2C.CallbackBeforeSendMsg', b, 'before a one-to-one message is delivered'],
  ['C2C.CallbackAfterSendMsg', a, 'after a one-to-one message was sent'],
  ['C2C.CallbackAfterMsgReport', a, 'after a one-to-one read report'],
  ['C2C.CallbackAfterMsgWithDraw', a, 'after a one-to-one message was withdrawn'],
  ['C2C.CallbackAfterC2CMsgExtension', a, 'after a one-to-one message extension changed'],
  ['C2C.CallbackAfterMsgReadReceipt', a, 'after a one-to-one per-message read receipt'],
  ['C2C.CallbackAfterModifyMsg', a, 'after a one-to-one message was edited'],
  ['C2C.CallbackAfterMsgReadAll', a, 'after "clear all unread" (one-to-one and groups)'],
  ['Group.CallbackOnDailyGroupQuotaAlarm', a, 'daily net group-growth threshold alarm'],
  ['Group.CallbackAfterGroupMsgExtension', a, 'after a group message extension changed'],
  ['Group.CallbackBeforeCreateGroup', b, 'before a group is created'],
  ['Group.CallbackAfterCreateGroup', a, 'after a group was created'],
  ['Group.CallbackBeforeApplyJoinGroup', b, 'before an application to join a group'],
  ['Group.CallbackBeforeInviteJoinGroup', b, 'before members are invited into a group'],
  ['Group.CallbackAfterNewMemberJoin', a, 'after new members joined a group'],
  ['Group.CallbackAfterMemberExit', a, 'after members left a group'],
  ['Group.CallbackBeforeSendMsg', b, 'before a group message is delivered'],
  ['Group.CallbackAfterSendMsg', a, 'after a group message was sent'],
  ['Group.CallbackAfterGroupFull', a, 'after a group became full'],
  ['Group.CallbackAfterGroupDestroyed', a, 'after a group was dismissed'],
  ['Group.CallbackAfterGroupInfoChanged', a, 'after group profile changed'],
  ['Group.CallbackAfterRecallMsg', a, 'after a group message was recalled'],
  ['Group.CallbackOnMemberStateChange', a, 'AVChatRoom member online/offline'],
  ['Group.CallbackSendMsgException', a, 'after a group message failed to be delivered'],
  ['Group.CallbackBeforeCreateTopic', b, 'before a community topic is created'],
  ['Group.CallbackAfterCreateTopic', a, 'after a community topic was created'],
  ['Group.CallbackAfterTopicDestroyed', a, 'after a community topic was deleted'],
  ['Group.CallbackAfterTopicInfoChanged', a, 'after a topic profile changed'],
  ['Group.CallbackAfterMemberFieldChanged', a, 'after a member profile field changed'],
  ['Group.CallbackAfterGroupAttrChanged', a, 'after group custom attributes changed'],
  ['Group.CallbackAfterReadReceipt', a, 'after group read receipts'],
  ['Group.CallbackAfterChangeGroupOwner', a, 'after the group owner changed'],
  ['Group.CallbackAfterModifyMsg', a, 'after a group message was edited'],
  ['ContentCallback.ResultNotify', a, 'content moderation result'],
  ['Bot.OnC2CMessage', a, 'a one-to-one message to a bot account'],
  ['Bot.OnGroupMessage', a, 'a bot was @-mentioned in a group'],
  ['Chatbot.OnC2CSignalMessage', a, 'custom pass-through message to an AI chatbot'],
  ['OfficialAccount.CallbackBeforeCreateOfficialAccount', b, 'before an official account is created'],
  ['OfficialAccount.CallbackAfterCreateOfficialAccount', a, 'after an official account was created'],
  ['OfficialAccount.CallbackAfterOfficialAccountInfoChanged', a, 'after official account profile changed'],
  ['OfficialAccount.CallbackAfterOfficialAccountDestroyed', a, 'after an official account was destroyed'],
  ['OfficialAccount.CallbackBeforeAddSubscriber', b, 'before a subscriber is added'],
  ['OfficialAccount.CallbackAfterAddSubscriber', a, 'after a subscriber was added'],
  ['OfficialAccount.CallbackAfterOfficialAccountFull', a, 'after an official account became full'],
  ['OfficialAccount.CallbackAfterDeleteSubscriber', a, 'after a subscriber was removed'],
  ['OfficialAccount.CallbackBeforeSendMsg', b, 'before an official account message is sent'],
  ['OfficialAccount.CallbackAfterSendMsg', a, 'after an official account message was sent'],
  ['OfficialAccount.CallbackAfterMsgWithDraw', a, 'after an official account message was withdrawn'],
  ['Push.OfflinePush', a, 'push plugin: offline push (batched Events[])'],
  ['Push.AllMemberPush', a, 'push plugin: all-member push (batched Events[])'],
]

function familyOf(command: string): CommandFamily {
  if (command.startsWith('Group.')) return 'group'
  if (command.startsWith('C2C.')) return 'c2c'
  return 'other'
}

/** Every documented command, in the order of test/fixtures/command-list.txt. */
export const COMMANDS: ReadonlyArray<CommandInfo> = table.map(([command, phase, summary]) =>
  Object.freeze({ command, phase, family: familyOf(command), summary }),
)

const byName = new Map(COMMANDS.map((c) => [c.command, c]))

/**
 * Look a command up in the catalogue.
 * @example commandInfo('Group.CallbackBeforeSendMsg') // { phase: 'before', family: 'group', … }
 * @returns `undefined` for a command the catalogue does not know (Tencent adds new ones).
 */
export function commandInfo(command: string): CommandInfo | undefined {
  return byName.get(command)
}

/** True when IM acts on the answer to this command (a before-event). Unknown commands are after-events. */
export function isBeforeCommand(command: string): boolean {
  return byName.get(command)?.phase === 'before'
}

/** The before-send commands whose verdict may deny, drop or rewrite a message. */
export const MESSAGE_DECISION_COMMANDS = ['Group.CallbackBeforeSendMsg', 'C2C.CallbackBeforeSendMsg'] as const
export type MessageDecisionCommand = (typeof MESSAGE_DECISION_COMMANDS)[number]
