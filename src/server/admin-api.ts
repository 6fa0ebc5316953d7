/**
 * The admin HTTP API, behind `Authorization: Bearer <admin token>`:
 * `GET /api/messages`, `GET /api/events`, `GET /api/stats`, and a stored body whole:
 * `GET /api/events/:id/raw`, `GET /api/messages/:id/body`. Answers JSON; a bad parameter gets a
 * 400 naming it.
 *
 * Whatever the store holds, an answer takes bounded memory: a page reads at most
 * `INLINE_BODY_BYTES` of each body, stops at `PAGE_BYTES` of JSON (its `nextCursor` continues
 * after the last item it holds), and a whole body is streamed in `BODY_CHUNK` pieces.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { HeldPage } from '../store/held-page.js'
import { PAGE_BYTES } from '../store/page-json.js'
import { StoreBusyError, StoreQueryError, StoreTimeoutError } from '../store/store-query-error.js'
import type { Store } from '../store/store.js'
import type { ServerLogger } from './logger.js'

export const MAX_LIMIT = 500
export const DEFAULT_LIMIT = 50
/** A whole body is read from the store and written in pieces of this size. */
export const BODY_CHUNK = 256 * 1024

export { PAGE_BYTES }

type Params = URLSearchParams

/** Answers JSON. A value that cannot be serialized (never expected) is answered 500, not thrown. */
function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  let body: string
  try {
    body = JSON.stringify(value)
  } catch (err) {
    status = 500
    body = JSON.stringify({ error: { code: 'INTERNAL', message: `the answer could not be serialized: ${String(err)}` } })
  }
  send(res, status, body, { 'content-type': 'application/json; charset=utf-8', ...headers })
}

function send(res: ServerResponse, status: number, body: string | Uint8Array | HeldPage, headers: Record<string, string>): void {
  if (res.headersSent || res.destroyed) {
    if (body instanceof HeldPage) body.drop()
    res.destroy()
    return
  }
  if (body instanceof HeldPage) {
    // Written by the reader process that holds it (src/store/held-page.ts); a failure cuts the response.
    body.writeTo(res, headers).catch(() => res.destroy())
    return
  }
  res.writeHead(status, { ...headers, 'content-length': Buffer.byteLength(body) })
  res.end(body)
}

const digest = (s: string) => createHash('sha256').update(s).digest()

/** Constant-time: compares digests, so neither the length nor the content of the token leaks. */
function authorized(header: string | undefined, expected: Buffer | undefined): boolean {
  if (expected === undefined || header === undefined) return false
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header)
  return m !== null && timingSafeEqual(digest(m[1]!), expected)
}

/**
 * Checks `Authorization: Bearer <admin token>` (the admin API, and `/metrics` on the callback
 * port); answers 401 itself and returns false when it is missing or wrong.
 */
export function bearerGuard(adminToken: string | undefined): (req: IncomingMessage, res: ServerResponse) => boolean {
  const expected = adminToken === undefined ? undefined : digest(adminToken)
  return (req, res) => {
    if (authorized(req.headers.authorization, expected)) return true
    const message = expected === undefined ? 'disabled: start the server with --admin-token' : 'send Authorization: Bearer <admin token>'
    sendJson(res, 401, { error: { code: 'UNAUTHORIZED', message } }, { 'www-authenticate': 'Bearer realm="timhook"' })
    return false
  }
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
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > MAX_LIMIT)
    throw new StoreQueryError('limit', `an integer from 1 to ${MAX_LIMIT}, got ${JSON.stringify(v.slice(0, 40))}`)
  return Number(v)
}

/** A time: ms since the epoch, or an ISO 8601 date. */
function timeOf(params: Params, name: string): number | undefined {
  const v = text(params, name)
  if (v === undefined) return undefined
  const ms = /^\d+$/.test(v) ? Number(v) : Date.parse(v)
  if (!Number.isSafeInteger(ms))
    throw new StoreQueryError(name, `ms since the epoch or an ISO 8601 date, got ${JSON.stringify(v.slice(0, 40))}`)
  return ms
}

function booleanOf(params: Params, name: string): boolean | undefined {
  const v = text(params, name)
  if (v === undefined) return undefined
  if (v === 'true' || v === 'false') return v === 'true'
  throw new StoreQueryError(name, `true or false, got ${JSON.stringify(v.slice(0, 40))}`)
}

export type AdminHandler = (req: IncomingMessage, res: ServerResponse, path: string, query: string) => void

/** A row id from a path: digits, as the store numbers rows. */
function rowId(text: string): number {
  if (!/^\d{1,15}$/.test(text)) throw new StoreQueryError('id', `a row id (the item's "id"), got ${JSON.stringify(text.slice(0, 40))}`)
  return Number(text)
}

const BODY_ROUTE = /^\/api\/(events|messages)\/([^/]*)\/(raw|body)$/

/**
 * Creates the admin API handler. Without an admin token every request gets 401.
 * @example const admin = createAdminApi(store, 'a-long-random-secret', logger)
 */
export function createAdminApi(store: Store, adminToken: string | undefined, logger: ServerLogger): AdminHandler {
  const guard = bearerGuard(adminToken)

  // Each route answers a JSON text, or its UTF-8 bytes (pages are built item by item, see pageJson, by the store),
  // or a page a reader process holds and writes into the connection itself.
  const routes: Record<string, (params: Params) => Promise<string | Uint8Array | HeldPage>> = {
    '/api/messages': async (params) => {
      checkParams(params, ['groupId', 'topicId', 'from', 'to', 'recalled', 'since', 'until', 'limit', 'cursor'])
      return store.listMessagesJson({
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
    '/api/events': async (params) => {
      checkParams(params, ['command', 'since', 'until', 'limit', 'cursor'])
      return store.listEventsJson({
        command: text(params, 'command'),
        since: timeOf(params, 'since'),
        until: timeOf(params, 'until'),
        limit: limitOf(params),
        cursor: text(params, 'cursor'),
      })
    },
    '/api/stats': async (params) => {
      checkParams(params, [])
      return JSON.stringify(await store.stats())
    },
  }

  const failed = (res: ServerResponse, path: string) => (err: unknown) => {
    if (err instanceof StoreQueryError) {
      sendJson(res, 400, { error: { code: 'BAD_PARAMETER', parameter: err.parameter, message: err.message } })
      return
    }
    if (err instanceof StoreTimeoutError || err instanceof StoreBusyError) {
      const code = err instanceof StoreTimeoutError ? 'STORE_TIMEOUT' : 'TOO_MANY_READS'
      sendJson(res, 503, { error: { code, message: err.message } }, { 'retry-after': '1' })
      return
    }
    logger.error({ err: String(err), path }, 'admin API query failed')
    sendJson(res, 503, { error: { code: 'STORE_UNAVAILABLE', message: 'the store did not answer; see /readyz' } })
  }

  /** Streams a stored body in pieces, waiting for the client to take each one. */
  async function streamBody(res: ServerResponse, kind: 'event' | 'message', id: number): Promise<void> {
    let piece = await store.readBody(kind, id, 0, BODY_CHUNK)
    if (piece === null) {
      sendJson(res, 404, { error: { code: 'NOT_FOUND', message: `no ${kind} with id ${id}` } })
      return
    }
    // A raw body is bytes as received (its size is known); a message's JSON is text, sent chunked.
    res.writeHead(
      200,
      kind === 'event'
        ? { 'content-type': 'application/octet-stream', 'content-length': piece.size }
        : { 'content-type': 'application/json; charset=utf-8' },
    )
    let offset = 0
    while (piece !== null && piece.chunk.length > 0 && !res.destroyed) {
      if (!res.write(piece.chunk)) await writable(res)
      offset += piece.chunk.length
      if (offset >= piece.size) break
      piece = await store.readBody(kind, id, offset, BODY_CHUNK)
    }
    res.end()
  }

  const handle: AdminHandler = (req, res, path, query) => {
    if (!guard(req, res)) return
    const body = BODY_ROUTE.exec(path)
    const route = routes[path]
    if (route === undefined && body === null) {
      sendJson(res, 404, {
        error: {
          code: 'NOT_FOUND',
          message: `no such endpoint ${path}; try /api/messages, /api/events, /api/stats, /api/events/:id/raw, /api/messages/:id/body`,
        },
      })
      return
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendJson(res, 405, { error: { code: 'METHOD_NOT_ALLOWED', message: 'the admin API is read-only: GET' } }, { allow: 'GET' })
      return
    }
    if (body !== null) {
      const kind = body[1] === 'events' ? 'event' : 'message'
      if ((kind === 'event') !== (body[3] === 'raw')) {
        sendJson(res, 404, {
          error: { code: 'NOT_FOUND', message: `no such endpoint ${path}; try /api/events/:id/raw or /api/messages/:id/body` },
        })
        return
      }
      let pending: Promise<void>
      try {
        pending = streamBody(res, kind, rowId(body[2]!))
      } catch (err) {
        pending = Promise.reject(err)
      }
      pending.catch((err: unknown) => (res.headersSent ? res.destroy() : failed(res, path)(err)))
      return
    }
    let pending: Promise<string | Uint8Array | HeldPage>
    try {
      pending = route!(new URLSearchParams(query))
    } catch (err) {
      pending = Promise.reject(err)
    }
    pending.then((json) => send(res, 200, json, { 'content-type': 'application/json; charset=utf-8' }), failed(res, path))
  }

  // Nothing the handler does may throw past its request: a bug is answered 500 and logged.
  return (req, res, path, query) => {
    try {
      handle(req, res, path, query)
    } catch (err) {
      internalError(res, logger, err, path)
    }
  }
}

/** Resolves when the response can take more (or is gone). */
function writable(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done)
      res.off('close', done)
      resolve()
    }
    res.on('drain', done)
    res.on('close', done)
  })
}

/** The answer of last resort: 500 with a named code, logged; a response already under way is cut. */
export function internalError(res: ServerResponse, logger: ServerLogger, err: unknown, path: string): void {
  try {
    logger.error({ err: err instanceof Error ? (err.stack ?? err.message) : String(err), path }, 'request failed')
  } catch {
    // a logger that throws must not stop the answer
  }
  if (res.headersSent) res.destroy()
  else sendJson(res, 500, { error: { code: 'INTERNAL', message: 'the request failed inside timhook; see the server log' } })
}

export { sendJson }
