import type { EmulatorContext } from '../emulator-context.js'
import { newTopicId } from '../state/ids.js'
import { optionalString, requiredString } from './fields.js'
import type { RestCall } from './rest-call.js'
import { ok, RestError } from './rest-error.js'

const BAD = 10004
const NO_GROUP = 10010
const TAKEN = 10021

/**
 * `v4/million_group_open_http_svc/create_topic` (also served as `group_open_http_svc/create_group_topic`):
 * a topic in a topic-enabled Community. `GroupId`, `TopicName`, optional custom `TopicId` of the form
 * `GroupId@TOPIC#_custom`. Answers `TopicId`.
 * @example {"GroupId":"@TGS#_@TGS#cQVLVHIM62CJ","TopicName":"TestTopic"} → {…,"TopicId":"@TGS#_@TGS#cQVLVHIM62CJ@TOPIC#_…"}
 */
export function createTopic(ctx: EmulatorContext, call: RestCall): Record<string, unknown> {
  const { body } = call
  const groupId = requiredString(body, 'GroupId', BAD)
  const topicName = requiredString(body, 'TopicName', BAD)
  const group = ctx.groups.get(groupId)
  if (group === undefined) throw new RestError(NO_GROUP, `group ${groupId} does not exist`)
  if (!group.SupportTopic)
    throw new RestError(BAD, `group ${groupId} is not a topic-enabled Community (create it with Type "Community" and SupportTopic 1)`)
  let topicId = optionalString(body, 'TopicId', BAD, true)
  if (topicId !== undefined) {
    const prefix = `${groupId}@TOPIC#_`
    if (!topicId.startsWith(prefix) || topicId.length === prefix.length)
      throw new RestError(BAD, `a custom TopicId must be ${prefix}<custom part>`)
    if (group.topics.has(topicId)) throw new RestError(TAKEN, `TopicId ${topicId} is already in use`)
  } else {
    do topicId = newTopicId(groupId)
    while (group.topics.has(topicId))
  }
  ctx.groups.addTopic(group, topicId, topicName)
  return ok({ TopicId: topicId })
}
