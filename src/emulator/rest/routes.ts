import { adminMsgWithdraw } from './admin-msg-withdraw.js'
import { createGroup } from './create-group.js'
import { createTopic } from './create-topic.js'
import { groupMsgRecall } from './group-msg-recall.js'
import type { RestHandler } from './rest-call.js'
import { sendC2CMsg } from './send-c2c-msg.js'
import { sendGroupMsg } from './send-group-msg.js'

export interface Route {
  handler: RestHandler
  /** The code for a body that is not a JSON object: the service's own where documented (90001), else the public 60003. */
  jsonErrorCode: number
}

const group = (handler: RestHandler): Route => ({ handler, jsonErrorCode: 60003 })
const openim = (handler: RestHandler): Route => ({ handler, jsonErrorCode: 90001 })

/** The REST APIs under `/v4/`, by `servicename/command`. */
export const ROUTES: Readonly<Record<string, Route>> = {
  'group_open_http_svc/create_group': group(createGroup),
  'million_group_open_http_svc/create_topic': group(createTopic),
  // Another name some SDKs and guides use for the same call.
  'group_open_http_svc/create_group_topic': group(createTopic),
  'group_open_http_svc/send_group_msg': group(sendGroupMsg),
  'group_open_http_svc/group_msg_recall': group(groupMsgRecall),
  'openim/sendmsg': openim(sendC2CMsg),
  'openim/admin_msgwithdraw': openim(adminMsgWithdraw),
}
