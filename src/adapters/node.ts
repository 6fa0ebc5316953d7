import type { IncomingMessage, ServerResponse } from 'node:http'
import type { ReceiverResponse } from '../receiver/answer.js'
import type { RawRequest } from '../receiver/handle-request.js'
import { readNodeBodyInto } from './read-node-body.js'

/** A node:http request listener; Express calls it with a third `next` argument, which it never needs. */
export type NodeListener = (req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void) => void

type Process = (request: RawRequest) => ReceiverResponse | Promise<ReceiverResponse>

/**
 * Adapts the receiver to node:http (and Express, which passes node's objects through).
 * @example http.createServer(receiver.node).listen(8080)
 * @example app.post('/tim/callback', receiver.node) // Express: mount before express.json()
 */
export function createNodeListener(process: Process, bodyLimit: number): NodeListener {
  return (req, res) => {
    try {
      serve(process, bodyLimit, req, res)
    } catch {
      write(res, INTERNAL)
    }
  }
}

function serve(process: Process, bodyLimit: number, req: IncomingMessage, res: ServerResponse): void {
  const url = req.url ?? '/'
  const q = url.indexOf('?')
  const request: RawRequest = { method: req.method, query: q === -1 ? '' : url.slice(q + 1), headers: req.headers, body: undefined }
  if (req.readableEnded) {
    // Something already consumed the stream: a body parser (express.json(), express.raw(), …) or a
    // middleware that kept the bytes. Use raw bytes when it left them; otherwise handle() explains.
    const { body, rawBody } = req as { body?: unknown; rawBody?: unknown }
    request.body = isRaw(body) ? body : isRaw(rawBody) ? rawBody : (body ?? {})
  } else if (req.method === 'POST') {
    readNodeBodyInto(req, bodyLimit, req, (read) => {
      if (read.ok) request.body = read.body
      else request.bodyError = read.error
      answer(res, process, request)
    })
    return
  }
  answer(res, process, request)
}

const isRaw = (v: unknown): v is Buffer | string => Buffer.isBuffer(v) || typeof v === 'string'

function answer(res: ServerResponse, process: Process, request: RawRequest): void {
  let response: ReceiverResponse | Promise<ReceiverResponse>
  try {
    response = process(request)
  } catch {
    response = INTERNAL
  }
  if (response instanceof Promise) {
    response.then((r) => write(res, r), () => write(res, INTERNAL))
    return
  }
  write(res, response)
}

// processRequest does not throw; this answer exists so that a bug can never leave a request hanging.
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
  res.end(response.body)
}
