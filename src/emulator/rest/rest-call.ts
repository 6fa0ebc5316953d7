import type { EmulatorContext } from '../emulator-context.js'
import type { Body } from './fields.js'
import { RestError } from './rest-error.js'

/** One REST call, after the common query was checked and the body parsed. */
export interface RestCall {
  body: Body
  /** The `identifier` query parameter: the App admin; `Operator_Account` of the callbacks it causes. */
  identifier: string
  /** The caller's address: `ClientIP` of the callbacks it causes. */
  clientIp: string
}

export type RestHandler = (ctx: EmulatorContext, call: RestCall) => Promise<Record<string, unknown>> | Record<string, unknown>

/** With `accounts` set, only those UserIDs exist; otherwise every account does (no import needed). */
export function assertAccount(ctx: EmulatorContext, account: string, field: string, code: number): void {
  if (ctx.options.accounts !== undefined && !ctx.options.accounts.has(account)) {
    throw new RestError(code, `${field} ${JSON.stringify(account)} is not an imported account`)
  }
}

/** The callback query of events a REST call causes (`OptPlatform=RESTAPI`). */
export const restSendContext = (call: RestCall) => ({ clientIp: call.clientIp, optPlatform: 'RESTAPI' })
