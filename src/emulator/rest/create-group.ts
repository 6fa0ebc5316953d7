import type { EmulatorContext } from '../emulator-context.js'
import { newGroupId } from '../state/ids.js'
import { GROUP_TYPES } from '../state/groups.js'
import { optionalFlag, optionalString, requiredString } from './fields.js'
import { assertAccount, type RestCall } from './rest-call.js'
import { ok, RestError } from './rest-error.js'

const BAD = 10004 // invalid parameter
const TAKEN = 10021 // group ID already in use

/**
 * `v4/group_open_http_svc/create_group`: `Type` (Work/Private, Public, Meeting/ChatRoom, AVChatRoom,
 * Community), `Name`, optional `GroupId` (a Community's must start with `@TGS#_`), `Owner_Account`,
 * `SupportTopic: 1` for a topic-enabled Community. Answers `GroupId`.
 * @example POST /v4/group_open_http_svc/create_group?… {"Type":"Public","Name":"Team"} → {"ActionStatus":"OK",…,"GroupId":"@TGS#2J4SZEAEL"}
 */
export function createGroup(ctx: EmulatorContext, call: RestCall): Record<string, unknown> {
  const { body } = call
  const type = requiredString(body, 'Type', BAD)
  if (!(GROUP_TYPES as ReadonlyArray<string>).includes(type))
    throw new RestError(BAD, `Type ${JSON.stringify(type)} is not one of ${GROUP_TYPES.join(', ')}`)
  const name = requiredString(body, 'Name', BAD)
  const owner = optionalString(body, 'Owner_Account', BAD, true)
  if (owner !== undefined) assertAccount(ctx, owner, 'Owner_Account', BAD)
  const supportTopic = optionalFlag(body, 'SupportTopic', BAD) === 1
  if (supportTopic && type !== 'Community') throw new RestError(BAD, 'SupportTopic applies only to Community groups')
  let groupId = optionalString(body, 'GroupId', BAD, true)
  if (groupId !== undefined) {
    if (type === 'Community' && !groupId.startsWith('@TGS#_')) throw new RestError(BAD, 'a custom Community GroupId must start with @TGS#_')
    if (ctx.groups.get(groupId) !== undefined) throw new RestError(TAKEN, `GroupId ${groupId} is already in use`)
  } else {
    do groupId = newGroupId(type)
    while (ctx.groups.get(groupId) !== undefined)
  }
  ctx.groups.create({
    GroupId: groupId,
    Type: type,
    Name: name,
    Owner_Account: owner,
    SupportTopic: supportTopic,
    CreateTime: Math.floor(ctx.options.now() / 1000),
  })
  return ok({ GroupId: groupId })
}
