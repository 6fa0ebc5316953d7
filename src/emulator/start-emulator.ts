import http from 'node:http'
import type { AddressInfo } from 'node:net'
import type { SentCallback } from './sent-callback.js'
import { createEmulatorContext, type EmulatorContext } from './emulator-context.js'
import { resolveEmulatorOptions, type EmulatorOptions } from './options.js'
import { readApi } from './read-api.js'
import { handleRest } from './rest/handle-rest.js'
import { fail } from './rest/rest-error.js'

/** A running emulator. */
export interface Emulator {
  /** `http://host:port`: REST calls go to `${url}/v4/...`, the read API is at `${url}/emulator/...`. */
  url: string
  port: number
  /** Resolves once no callback is in flight (after-callbacks are sent in the background, as IM does). */
  idle(): Promise<void>
  /** The most recent callbacks sent, oldest first, with their outcomes. */
  callbacks(): SentCallback[]
  /** Stops accepting calls, waits for callbacks in flight, closes the connection pool. */
  close(): Promise<void>
}

/** REST bodies are small JSON objects; more than this is refused unread. */
const MAX_REST_BODY = 1024 * 1024
/** Tencent's "HTTP parse error" (a public REST error code). */
const BAD_HTTP = 60002
const INTERNAL = 91000

/**
 * Starts the IM backend emulator: Tencent's REST API under `/v4/`, a protocol-exact callback sender,
 * and the emulator-only read API under `/emulator/`.
 * @example
 * const emulator = await startEmulator({ sdkAppId: 1400000000, callbackUrl: 'http://127.0.0.1:8080/im', token: 'secret' })
 * await fetch(`${emulator.url}/v4/group_open_http_svc/create_group?sdkappid=1400000000&identifier=admin&usersig=x&random=1&contenttype=json`,
 *   { method: 'POST', body: JSON.stringify({ Type: 'Public', Name: 'Team' }) })
 * await emulator.close()
 */
export async function startEmulator(options: EmulatorOptions): Promise<Emulator> {
  const resolved = resolveEmulatorOptions(options)
  const ctx = createEmulatorContext(resolved)

  const server = http.createServer((req, res) => {
    try {
      serve(ctx, req, res)
    } catch (err) {
      // serve guards every parse of the input; this only keeps a bug from killing the process.
      req.resume()
      if (!res.headersSent) reply(res, 500, fail(INTERNAL, `internal error in the emulator: ${(err as Error).message}`))
      else res.destroy()
    }
  })
  // Bytes that are not HTTP (a bad request line or header, oversized headers) never reach the
  // listener; Node would drop the connection. Answer the FAIL envelope instead, then close.
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy()
      return
    }
    const tooLarge = err.code === 'HPE_HEADER_OVERFLOW'
    const text = JSON.stringify(
      fail(
        BAD_HTTP,
        `HTTP parse error: ${tooLarge ? 'the request headers are too large' : `the request is not valid HTTP/1.1 (${err.code ?? err.message})`}`,
      ),
    )
    socket.end(
      `HTTP/1.1 ${tooLarge ? '431 Request Header Fields Too Large' : '400 Bad Request'}\r\n` +
        `content-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`,
    )
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(resolved.port, resolved.host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const { port } = server.address() as AddressInfo
  const host = resolved.host.includes(':') ? `[${resolved.host}]` : resolved.host
  return {
    url: `http://${host}:${port}`,
    port,
    idle: () => ctx.idle(),
    callbacks: () => ctx.callbackLog(),
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeIdleConnections()
      })
      await ctx.close()
    },
  }
}

function reply(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

/** One request: the read API, or a REST call once its body is in. Every parse of the input is guarded. */
function serve(ctx: EmulatorContext, req: http.IncomingMessage, res: http.ServerResponse): void {
  const send = (status: number, body: unknown) => reply(res, status, body)
  let url: URL
  try {
    // The request target is whatever the client wrote: `http://[::1` passes Node's parser but not URL's.
    url = new URL(req.url ?? '/', 'http://emulator')
  } catch {
    req.resume()
    send(400, fail(BAD_HTTP, `HTTP parse error: the request target ${JSON.stringify(req.url)} is not a valid URL`))
    return
  }
  if (url.pathname.startsWith('/emulator/')) {
    const answer = readApi(ctx, req.method ?? 'GET', url.pathname, url.searchParams)
    req.resume()
    send(answer.status, answer.body)
    return
  }
  if (!url.pathname.startsWith('/v4/')) {
    req.resume()
    send(404, fail(60009, `no such path ${url.pathname}: REST APIs are under /v4/, the read API under /emulator/`))
    return
  }
  const chunks: Buffer[] = []
  let size = 0
  let refused = false
  req.on('data', (chunk: Buffer) => {
    if (refused) return
    size += chunk.length
    if (size > MAX_REST_BODY) {
      refused = true
      res.setHeader('connection', 'close')
      send(200, fail(BAD_HTTP, `the body exceeds ${MAX_REST_BODY} bytes`))
      req.destroy()
      return
    }
    chunks.push(chunk)
  })
  req.on('error', () => {})
  req.on('end', () => {
    if (refused) return
    const clientIp = (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, '')
    handleRest(ctx, {
      method: req.method ?? 'GET',
      api: url.pathname.slice('/v4/'.length),
      query: url.searchParams,
      body: Buffer.concat(chunks).toString('utf8'),
      clientIp,
    }).then(
      (answer) => send(200, answer),
      // handleRest never rejects; this only keeps a bug from killing the process.
      (err: unknown) => send(200, fail(INTERNAL, String(err))),
    )
  })
}
