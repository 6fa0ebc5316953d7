import { TimhookError } from '../protocol/errors.js'
import type { ReceiverResponse } from '../receiver/answer.js'
import type { RawRequest } from '../receiver/handle-request.js'

type Handle = (request: RawRequest) => Promise<ReceiverResponse>

/**
 * Adapts the receiver to the Fetch API: `(Request) => Promise<Response>` for Hono, Next.js route
 * handlers, Bun, Deno and Cloudflare-style runtimes.
 * @example export const POST = receiver.fetch // Next.js app/api/tim/route.ts
 * @example app.post('/tim', (c) => receiver.fetch(c.req.raw)) // Hono
 */
export function createFetchHandler(handle: Handle, bodyLimit: number): (request: Request) => Promise<Response> {
  return async (request) => {
    // A Request's url is serialised, so a '?' in the path is escaped: the query runs from the first
    // '?' to the fragment, if any (Request keeps one; URL.search drops it). Read as a string directly.
    const href = request.url
    const hash = href.indexOf('#')
    const q = href.indexOf('?')
    const query = q === -1 || (hash !== -1 && hash < q) ? '' : href.slice(q + 1, hash === -1 ? undefined : hash)
    const raw: RawRequest = { method: request.method, query, headers: request.headers, body: undefined }
    if (request.method === 'POST') {
      if (request.bodyUsed) raw.body = {} // read by a framework already: handle() explains what to do
      else await readBody(request, bodyLimit, raw)
    }
    const response = await handle(raw)
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
