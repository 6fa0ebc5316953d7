import type { GroupAtItem, MsgElement } from '../../protocol/generated/events.js'

/** A stored group message, as members would receive it. */
export interface StoredGroupMessage {
  MsgSeq: number
  MsgTime: number
  Random: number
  MsgId: string
  From_Account: string
  Operator_Account: string
  OnlineOnlyFlag: number
  MsgBody: MsgElement[]
  CloudCustomData?: string
  GroupAtInfo?: GroupAtItem[]
  /** Set once recalled. */
  Recall?: { Operator_Account: string; RecallTime: number; Reason?: string }
}

/** One message sequence: the group itself, or one topic of a topic-enabled Community. */
export interface Conversation {
  /** The last assigned `MsgSeq`; the next message gets this + 1, so the first gets 1. */
  lastSeq: number
  messages: Map<number, StoredGroupMessage>
}

export interface Topic {
  TopicId: string
  TopicName: string
  conversation: Conversation
}

export interface Group {
  GroupId: string
  /** As the creator wrote it (`Work` or `Private`, …); callbacks carry it as is. */
  Type: string
  Name: string
  Owner_Account?: string
  /** A topic-enabled Community. */
  SupportTopic: boolean
  CreateTime: number
  main: Conversation
  topics: Map<string, Topic>
}

/** The group types create_group accepts, new names and the legacy names REST still accepts
 * (`Private` = `Work`, `ChatRoom` = `Meeting`). */
export const GROUP_TYPES = ['Work', 'Private', 'Public', 'Meeting', 'ChatRoom', 'AVChatRoom', 'Community'] as const

const newConversation = (): Conversation => ({ lastSeq: 0, messages: new Map() })

/**
 * Every group and topic, with a `MsgSeq` counter per group (per topic where topics are used),
 * starting at 1 and strictly increasing, as IM numbers them.
 */
export class GroupStore {
  readonly groups = new Map<string, Group>()

  create(init: { GroupId: string; Type: string; Name: string; Owner_Account?: string; SupportTopic: boolean; CreateTime: number }): Group {
    const group: Group = { ...init, main: newConversation(), topics: new Map() }
    this.groups.set(group.GroupId, group)
    return group
  }

  get(groupId: string): Group | undefined {
    return this.groups.get(groupId)
  }

  addTopic(group: Group, topicId: string, topicName: string): Topic {
    const topic: Topic = { TopicId: topicId, TopicName: topicName, conversation: newConversation() }
    group.topics.set(topicId, topic)
    return topic
  }

  /** The sequence a message goes to: the group's own, or a topic's. */
  conversation(group: Group, topicId: string | undefined): Conversation | undefined {
    if (topicId === undefined) return group.main
    return group.topics.get(topicId)?.conversation
  }

  /** Stores a message under the next `MsgSeq` of its conversation. */
  append(conversation: Conversation, message: Omit<StoredGroupMessage, 'MsgSeq'>): StoredGroupMessage {
    const stored: StoredGroupMessage = { MsgSeq: ++conversation.lastSeq, ...message }
    conversation.messages.set(stored.MsgSeq, stored)
    return stored
  }
}
