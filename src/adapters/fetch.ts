import { TimhookError } from '../protocol/errors.js'
import type { Receiver } from '../receiver/create-receiver.js'
import type { RawRequest } from '../receiver/handle-request.js'
import { queryOf } from '../receiver/request-target.js'

/** A Fetch-API handler: `(Request) => Promise<Response>`. */
export type FetchHandler = (request: Request) => Promise<Response>

/**
 * Adapts a receiver to the Fetch API, for Hono, Next.js route handlers, Bun, Deno and
 * Cloudflare-style runtimes. Build it once and reuse it.
 * @example export const POST = toFetchHandler(receiver) // Next.js app/api/tim/route.ts
 * @example const tim = toFetchHandler(receiver); app.post('/tim', (c) => tim(c.req.raw)) // Hono
 */
export function toFetchHandler(receiver: Receiver): FetchHandler {
  return async (request) => {
    // A Request's url is serialised, so a '?' in the path is escaped: the first '?' starts the query.
    const raw: RawRequest = { method: request.method, query: queryOf(request.url), headers: request.headers, body: undefined }
    if (request.method === 'POST') {
      if (request.bodyUsed)
        raw.body = {} // read by a framework already: handle() explains what to do
      else await readBody(request, receiver.bodyLimit, raw)
    }
    const response = await receiver.handle(raw)
    // A copy: runtimes (e.g. @hono/node-server) may add to the headers they are given.
    return new Response(response.body, { status: response.status, headers: { ...response.headers } })
  }
}

async function readBody(request: Request, limit: number, raw: RawRequest): Promise<void> {
  const declared = request.headers.get('content-length')
  if (declared !== null && Number(declared) > limit) {
    raw.bodyError = new TimhookError('TIMHOOK_BODY_TOO_LARGE', limit)
    void request.body?.cancel().catch(() => {})
    return
  }
  if (request.body === null) {
    raw.body = Buffer.alloc(0)
    return
  }
  const reader = request.body.getReader()
  const chunks: Uint8Array[] = []
  let received = 0
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      received += value.byteLength
      if (received > limit) {
        raw.bodyError = new TimhookError('TIMHOOK_BODY_TOO_LARGE', limit)
        void reader.cancel().catch(() => {})
        return
      }
      chunks.push(value)
    }
  } catch {
    raw.bodyError = new TimhookError('TIMHOOK_BODY_INCOMPLETE', received, declared ?? 'more')
    return
  }
  raw.body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received)
}
