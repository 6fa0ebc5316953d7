import type { IncomingMessage, ServerResponse } from 'node:http'
import type { ReceiverResponse } from '../receiver/answer.js'
import type { RawRequest } from '../receiver/handle-request.js'
import { readNodeBody } from './read-node-body.js'

/** A node:http request listener; Express calls it with a third `next` argument, which it never needs. */
export type NodeListener = (req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void) => void

type Handle = (request: RawRequest) => Promise<ReceiverResponse>

/**
 * Adapts the receiver to node:http (and Express, which passes node's objects through).
 * @example http.createServer(receiver.node).listen(8080)
 * @example app.post('/tim/callback', receiver.node) // Express: mount before express.json()
 */
export function createNodeListener(handle: Handle, bodyLimit: number): NodeListener {
  return (req, res) => {
    void serve(handle, bodyLimit, req, res)
  }
}

async function serve(handle: Handle, bodyLimit: number, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = req.url ?? '/'
  const q = url.indexOf('?')
  const query = q === -1 ? '' : url.slice(q + 1)
  const request: RawRequest = { method: req.method, query, headers: req.headers, body: undefined }
  // A framework body parser (express.json(), express.raw(), …) already consumed the stream.
  const parsed = (req as { body?: unknown }).body
  if (parsed !== undefined && req.readableEnded) {
    request.body = parsed
  } else if (req.method === 'POST') {
    const read = await readNodeBody(req, bodyLimit)
    if (read.ok) request.body = read.body
    else request.bodyError = read.error
  }
  const response = await handle(request)
  if (res.headersSent || res.destroyed) return
  const headers: Record<string, string | number> = { ...response.headers, 'content-length': Buffer.byteLength(response.body) }
  res.writeHead(response.status, headers)
  res.end(response.body)
}
