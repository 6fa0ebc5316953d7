import { parseJsonObject } from '../../protocol/parse-json.js'
import type { EmulatorContext } from '../emulator-context.js'
import { fail, RestError } from './rest-error.js'
import { ROUTES } from './routes.js'

const BAD_URL = 60002 // HTTP parse error: check the URL
const BAD_ACCOUNT = 60004 // account or signature error in the URL
const BAD_APP = 60006 // SDKAppID invalid
const NOT_ADMIN = 60010 // App admin required
const NO_RESOURCE = 60009 // request resource error
const NO_APP = 60012 // the REST API needs an SDKAppID
const BAD_USERSIG = 70009 // UserSig verification failed
const INTERNAL = 91000

export interface RestRequest {
  method: string
  /** `servicename/command`, the path after `/v4/`. */
  api: string
  query: URLSearchParams
  body: string
  clientIp: string
}

/**
 * One REST call, end to end: the common query (`sdkappid`, `identifier`, `usersig`, `random`,
 * `contenttype=json`), the JSON body, the API. Always resolves to a Tencent
 * envelope: HTTP 200 with `ActionStatus` `OK` or `FAIL` — whatever the input, never a throw.
 */
export async function handleRest(ctx: EmulatorContext, req: RestRequest): Promise<Record<string, unknown>> {
  try {
    if (req.method !== 'POST') return fail(BAD_URL, `REST APIs are POST requests; got ${req.method}`)
    // Own keys only: `v4/constructor` must be an unknown API, not Object.prototype's.
    const route = Object.hasOwn(ROUTES, req.api) ? ROUTES[req.api] : undefined
    if (route === undefined)
      return fail(
        NO_RESOURCE,
        `the emulator does not offer v4/${req.api}; it offers ${Object.keys(ROUTES)
          .map((r) => 'v4/' + r)
          .join(', ')}`,
      )
    const q = req.query
    const sdkappid = q.get('sdkappid')
    if (sdkappid === null || sdkappid === '') return fail(NO_APP, 'the sdkappid query parameter is required')
    if (sdkappid !== ctx.options.sdkAppId) return fail(BAD_APP, `sdkappid ${sdkappid} is not this app (${ctx.options.sdkAppId})`)
    const identifier = q.get('identifier')
    if (identifier === null || identifier === '')
      return fail(BAD_ACCOUNT, 'the identifier query parameter (an App admin account) is required')
    if (ctx.options.admins !== undefined && !ctx.options.admins.has(identifier))
      return fail(NOT_ADMIN, `identifier ${identifier} is not an App admin`)
    const usersig = q.get('usersig')
    if (usersig === null || usersig === '')
      return fail(BAD_USERSIG, 'the usersig query parameter is required (the emulator accepts any non-empty value)')
    const random = q.get('random')
    if (random === null || !/^\d{1,10}$/.test(random) || Number(random) > 0xffff_ffff) {
      return fail(BAD_URL, 'the random query parameter must be an integer 0–4294967295')
    }
    if (q.get('contenttype') !== 'json') return fail(BAD_URL, 'the contenttype query parameter must be json')
    let body: Record<string, unknown>
    try {
      body = parseJsonObject(req.body)
    } catch (err) {
      return fail(route.jsonErrorCode, `the body must be a JSON object (send {} when there is nothing else): ${(err as Error).message}`)
    }
    return await route.handler(ctx, { body, identifier, clientIp: req.clientIp })
  } catch (err) {
    if (err instanceof RestError) return fail(err.code, err.info)
    return fail(INTERNAL, `internal error in the emulator: ${(err as Error).message}`)
  }
}
