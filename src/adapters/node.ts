import type { IncomingMessage, ServerResponse } from 'node:http'
import type { ReceiverResponse } from '../receiver/answer.js'
import type { Receiver } from '../receiver/create-receiver.js'
import type { RawRequest } from '../receiver/handle-request.js'
import { queryOf } from '../receiver/request-target.js'
import { readNodeBodyInto } from './read-node-body.js'

/** A node:http request listener; Express calls it with a third `next` argument, which it never needs. */
export type NodeListener = (req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void) => void

/**
 * Adapts a receiver to node:http (and Express, which passes node's objects through). Build it once
 * and reuse it: it is the request listener.
 * @example http.createServer(toNodeHandler(receiver)).listen(8080)
 * @example app.post('/tim/callback', toNodeHandler(receiver)) // Express: mount before express.json()
 */
export function toNodeHandler(receiver: Receiver): NodeListener {
  return (req, res) => {
    try {
      serve(receiver, req, res)
    } catch {
      write(res, INTERNAL)
    }
  }
}

/** The request as handed to the receiver, with the response it is answered on (a late answer comes back with it). */
interface NodeRequest extends RawRequest {
  res: ServerResponse
}

function serve(receiver: Receiver, req: IncomingMessage, res: ServerResponse): void {
  const request: NodeRequest = {
    method: req.method,
    query: queryOf(req.url ?? '/'),
    headers: req.headers,
    body: undefined,
    bodyError: undefined,
    res,
  }
  if (req.readableEnded) {
    // Something already consumed the stream: a body parser (express.json(), express.raw(), …) or a
    // middleware that kept the bytes. Use raw bytes when it left them; otherwise handle() explains.
    const { body, rawBody } = req as { body?: unknown; rawBody?: unknown }
    request.body = isRaw(body) ? body : isRaw(rawBody) ? rawBody : (body ?? {})
  } else if (req.method === 'POST') {
    readNodeBodyInto(req, receiver.bodyLimit, req, (body, error) => {
      request.body = body
      request.bodyError = error
      answer(res, receiver, request)
    })
    return
  }
  answer(res, receiver, request)
}

const isRaw = (v: unknown): v is Buffer | string => Buffer.isBuffer(v) || typeof v === 'string'

function answer(res: ServerResponse, receiver: Receiver, request: NodeRequest): void {
  let response: ReceiverResponse | undefined
  try {
    // A late answer (a listener that waits) comes through the callback: no promise, and no closure, per request.
    response = receiver.handleWith(request, writeLate)
  } catch {
    response = INTERNAL
  }
  if (response !== undefined) write(res, response)
}

/** A late answer, called back from a listener's completion (a store's commit): a throw must not reach the caller. */
function writeLate(response: ReceiverResponse, request: NodeRequest): void {
  try {
    write(request.res, response)
  } catch {
    write(request.res, INTERNAL)
  }
}

// handle() does not throw; this answer exists so that a bug can never leave a request hanging.
const INTERNAL: ReceiverResponse = {
  status: 500,
  headers: { 'content-type': 'application/json; charset=utf-8' },
  body: JSON.stringify({ ActionStatus: 'FAIL', ErrorCode: 500, ErrorInfo: 'TIMHOOK_INTERNAL: the answer could not be built' }),
}

// Complete header objects for the few distinct 200 answers (OK, deny, drop) that make up nearly
// all traffic, keyed by body; other answers (rewrites, rejections) get theirs built.
const cachedHeaders = new Map<string, Record<string, string | number>>()

function write(res: ServerResponse, response: ReceiverResponse): void {
  if (res.headersSent || res.destroyed) return
  // Only short bodies are cached: looking a rewritten answer up would hash its whole text for nothing.
  const cacheable = response.status === 200 && response.body.length < 128
  let headers = cacheable ? cachedHeaders.get(response.body) : undefined
  if (headers === undefined) {
    headers = { ...response.headers, 'content-length': Buffer.byteLength(response.body) }
    if (cacheable && cachedHeaders.size < 64) cachedHeaders.set(response.body, headers)
  }
  res.writeHead(response.status, headers)
  // The body goes out as a string even when it is long and two-byte (a rewritten CJK message): node
  // then joins it to the header and sends both with one write. Encoded here instead (Buffer.from, its
  // length as content-length, end(bytes)), header and body become a two-chunk writev, and `serve`
  // with the example policy measured ~5 % dearer per before-send (docs/benchmarks.md, "The stamp's answer").
  res.end(response.body)
}
