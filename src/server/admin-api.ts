/**
 * The admin HTTP API, behind `Authorization: Bearer <admin token>`:
 * `GET /api/messages`, `GET /api/events`, `GET /api/stats`. Answers JSON; a bad parameter gets a
 * 400 naming it.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { StoreQueryError, StoreTimeoutError } from '../store/store-query-error.js'
import type { Store } from '../store/store.js'
import type { ServerLogger } from './logger.js'

export const MAX_LIMIT = 500
export const DEFAULT_LIMIT = 50

type Params = URLSearchParams

function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(value)
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), ...headers })
  res.end(body)
}

const digest = (s: string) => createHash('sha256').update(s).digest()

/** Constant-time: compares digests, so neither the length nor the content of the token leaks. */
function authorized(header: string | undefined, expected: Buffer | undefined): boolean {
  if (expected === undefined || header === undefined) return false
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header)
  return m !== null && timingSafeEqual(digest(m[1]!), expected)
}

function checkParams(params: Params, allowed: ReadonlyArray<string>): void {
  for (const key of params.keys()) {
    if (!allowed.includes(key)) throw new StoreQueryError(key, `unknown parameter; known: ${allowed.join(', ')}`)
  }
}

const text = (params: Params, name: string) => {
  const v = params.get(name)
  return v === null || v === '' ? undefined : v
}

function limitOf(params: Params): number {
  const v = text(params, 'limit')
  if (v === undefined) return DEFAULT_LIMIT
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > MAX_LIMIT) throw new StoreQueryError('limit', `an integer from 1 to ${MAX_LIMIT}, got ${JSON.stringify(v.slice(0, 40))}`)
  return Number(v)
}

/** A time: ms since the epoch, or an ISO 8601 date. */
function timeOf(params: Params, name: string): number | undefined {
  const v = text(params, name)
  if (v === undefined) return undefined
  const ms = /^\d+$/.test(v) ? Number(v) : Date.parse(v)
  if (!Number.isSafeInteger(ms)) throw new StoreQueryError(name, `ms since the epoch or an ISO 8601 date, got ${JSON.stringify(v.slice(0, 40))}`)
  return ms
}

function booleanOf(params: Params, name: string): boolean | undefined {
  const v = text(params, name)
  if (v === undefined) return undefined
  if (v === 'true' || v === 'false') return v === 'true'
  throw new StoreQueryError(name, `true or false, got ${JSON.stringify(v.slice(0, 40))}`)
}

export type AdminHandler = (req: IncomingMessage, res: ServerResponse, path: string, query: string) => void

/**
 * Creates the admin API handler. Without an admin token every request gets 401.
 * @example const admin = createAdminApi(store, 'a-long-random-secret', logger)
 */
export function createAdminApi(store: Store, adminToken: string | undefined, logger: ServerLogger): AdminHandler {
  const expected = adminToken === undefined ? undefined : digest(adminToken)

  const routes: Record<string, (params: Params) => Promise<unknown>> = {
    '/api/messages': (params) => {
      checkParams(params, ['groupId', 'topicId', 'from', 'to', 'recalled', 'since', 'until', 'limit', 'cursor'])
      return store.listMessages({
        groupId: text(params, 'groupId'),
        // An empty topicId is meaningful: messages outside any topic.
        topicId: params.has('topicId') ? (params.get('topicId') ?? '') : undefined,
        from: text(params, 'from'),
        to: text(params, 'to'),
        recalled: booleanOf(params, 'recalled'),
        since: timeOf(params, 'since'),
        until: timeOf(params, 'until'),
        limit: limitOf(params),
        cursor: text(params, 'cursor'),
      })
    },
    '/api/events': (params) => {
      checkParams(params, ['command', 'since', 'until', 'limit', 'cursor'])
      return store.listEvents({ command: text(params, 'command'), since: timeOf(params, 'since'), until: timeOf(params, 'until'), limit: limitOf(params), cursor: text(params, 'cursor') })
    },
    '/api/stats': (params) => {
      checkParams(params, [])
      return store.stats()
    },
  }

  return (req, res, path, query) => {
    if (!authorized(req.headers.authorization, expected)) {
      const message = expected === undefined ? 'the admin API is disabled: start the server with --admin-token' : 'send Authorization: Bearer <admin token>'
      sendJson(res, 401, { error: { code: 'UNAUTHORIZED', message } }, { 'www-authenticate': 'Bearer realm="timhook"' })
      return
    }
    const route = routes[path]
    if (route === undefined) {
      sendJson(res, 404, { error: { code: 'NOT_FOUND', message: `no such endpoint ${path}; try /api/messages, /api/events, /api/stats` } })
      return
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendJson(res, 405, { error: { code: 'METHOD_NOT_ALLOWED', message: 'the admin API is read-only: GET' } }, { allow: 'GET' })
      return
    }
    let pending: Promise<unknown>
    try {
      pending = route(new URLSearchParams(query))
    } catch (err) {
      pending = Promise.reject(err)
    }
    pending.then(
      (value) => sendJson(res, 200, value),
      (err: unknown) => {
        if (err instanceof StoreQueryError) {
          sendJson(res, 400, { error: { code: 'BAD_PARAMETER', parameter: err.parameter, message: err.message } })
          return
        }
        if (err instanceof StoreTimeoutError) {
          sendJson(res, 503, { error: { code: 'STORE_TIMEOUT', message: err.message } })
          return
        }
        logger.error({ err: String(err), path }, 'admin API query failed')
        sendJson(res, 503, { error: { code: 'STORE_UNAVAILABLE', message: 'the store did not answer; see /readyz' } })
      },
    )
  }
}

export { sendJson }
