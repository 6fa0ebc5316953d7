import type { EmulatorContext } from './emulator-context.js'
import type { StoredC2CMessage } from './state/c2c.js'
import type { StoredGroupMessage } from './state/groups.js'

/** An answer of the emulator-only read API. */
export interface ReadAnswer {
  status: number
  body: unknown
}

const notFound = (error: string): ReadAnswer => ({ status: 404, body: { error } })
const badRequest = (error: string): ReadAnswer => ({ status: 400, body: { error } })

const groupView = ({ Recall, ...m }: StoredGroupMessage) => ({
  ...m,
  Recalled: Recall !== undefined,
  ...(Recall !== undefined && { Recall }),
})
const c2cView = ({ Withdraw, CountsUnread, ...m }: StoredC2CMessage) => ({
  ...m,
  Unread: CountsUnread,
  Withdrawn: Withdraw !== undefined,
  ...(Withdraw !== undefined && { Withdraw }),
})

/**
 * The emulator-only read API under `/emulator/` — not a Tencent API: what members would receive.
 * - `GET /emulator/groups` — every group with its topics and last `MsgSeq`
 * - `GET /emulator/groups/{GroupId}/messages[?TopicId=]` (or `/emulator/group-messages?GroupId=&TopicId=`)
 * - `GET /emulator/c2c/messages?a=&b=` — the conversation of two accounts, both directions
 * - `GET /emulator/unread?account=` — an account's one-to-one unread total
 * - `GET /emulator/callbacks` — the most recent callbacks sent, with their outcomes
 * Messages carry `Recalled`/`Withdrawn` (and when, by whom).
 * @example GET /emulator/groups/%40TGS%232J4SZEAEL/messages → {"GroupId":"@TGS#2J4SZEAEL","Messages":[{"MsgSeq":1,…,"Recalled":false}]}
 */
export function readApi(ctx: EmulatorContext, method: string, path: string, query: URLSearchParams): ReadAnswer {
  if (method !== 'GET') return { status: 405, body: { error: `the emulator read API is GET only; got ${method}` } }
  if (path === '/emulator/groups') {
    const Groups = [...ctx.groups.groups.values()].map((g) => ({
      GroupId: g.GroupId,
      Type: g.Type,
      Name: g.Name,
      SupportTopic: g.SupportTopic,
      LastMsgSeq: g.main.lastSeq,
      Topics: [...g.topics.values()].map((t) => ({ TopicId: t.TopicId, TopicName: t.TopicName, LastMsgSeq: t.conversation.lastSeq })),
    }))
    return { status: 200, body: { Groups } }
  }
  const groupPath = /^\/emulator\/groups\/([^/]+)\/messages$/.exec(path)
  if (groupPath !== null || path === '/emulator/group-messages') {
    let groupId: string | null
    try {
      groupId = groupPath !== null ? decodeURIComponent(groupPath[1]!) : query.get('GroupId')
    } catch {
      return badRequest('the GroupId in the path is not valid percent-encoding')
    }
    if (groupId === null || groupId === '') return badRequest('GroupId is required')
    const topicId = query.get('TopicId') || undefined
    const group = ctx.groups.get(groupId)
    if (group === undefined) return notFound(`group ${groupId} does not exist`)
    const conversation = ctx.groups.conversation(group, topicId)
    if (conversation === undefined) return notFound(`topic ${topicId} does not exist in group ${groupId}`)
    return {
      status: 200,
      body: {
        GroupId: groupId,
        ...(topicId !== undefined && { TopicId: topicId }),
        Messages: [...conversation.messages.values()].map(groupView),
      },
    }
  }
  if (path === '/emulator/c2c/messages') {
    const a = query.get('a')
    const b = query.get('b')
    if (!a || !b) return badRequest('both accounts are required: ?a=<UserID>&b=<UserID>')
    return { status: 200, body: { Accounts: [a, b], Messages: ctx.c2c.between(a, b).map(c2cView) } }
  }
  if (path === '/emulator/unread') {
    const account = query.get('account')
    if (!account) return badRequest('account is required: ?account=<UserID>')
    return { status: 200, body: { Account: account, UnreadMsgNum: ctx.c2c.unreadOf(account) } }
  }
  if (path === '/emulator/callbacks') return { status: 200, body: { Callbacks: ctx.callbackLog() } }
  return notFound(`no emulator read endpoint ${path}; see docs/emulator.md`)
}
