import type { IncomingMessage } from 'node:http'
import type { Readable } from 'node:stream'
import { TimhookError } from '../protocol/errors.js'

export type BodyRead = { ok: true; body: Buffer } | { ok: false; error: TimhookError }

/** What `readNodeBodyInto` calls once: the whole body, or the error that refused it. */
export type BodyDone = (body: Buffer | undefined, error: TimhookError | undefined) => void

const EMPTY = Buffer.alloc(0)

/**
 * Reads a request body up to `limit` bytes and calls `done` once, with the body or with the error.
 * Over the limit by `content-length`: refused without reading a byte. Over the limit while
 * streaming (chunked): reading stops at the limit. Never truncates: a body is whole or refused.
 * Callback-style because it runs for every callback: no promise and no result object on the hot
 * path, and plain `on` listeners (`once` wraps each listener and removes it while emitting; the
 * `finished` flag already makes every path run once).
 */
export function readNodeBodyInto(req: IncomingMessage, limit: number, stream: Readable, done: BodyDone): void {
  const declared = req.headers['content-length']
  const expected = declared === undefined ? undefined : Number(declared)
  if (expected !== undefined && expected > limit) {
    done(undefined, new TimhookError('TIMHOOK_BODY_TOO_LARGE', limit))
    return
  }
  let first: Buffer | undefined
  let chunks: Buffer[] | undefined
  let received = 0
  let finished = false
  const fail = (error: TimhookError) => {
    if (finished) return
    finished = true
    stream.off('data', onData)
    done(undefined, error)
  }
  const onData = (chunk: Buffer) => {
    received += chunk.length
    if (received > limit) {
      stream.pause()
      fail(new TimhookError('TIMHOOK_BODY_TOO_LARGE', limit))
      return
    }
    if (first === undefined) first = chunk
    else (chunks ??= [first]).push(chunk)
  }
  stream.on('data', onData)
  stream.on('end', () => {
    if (finished) return
    if (expected !== undefined && received !== expected) return fail(new TimhookError('TIMHOOK_BODY_INCOMPLETE', received, expected))
    finished = true
    done(chunks !== undefined ? Buffer.concat(chunks, received) : (first ?? EMPTY), undefined)
  })
  // Node emits 'error' (ECONNRESET, "aborted") when the client goes away mid-body.
  stream.on('error', () => fail(new TimhookError('TIMHOOK_BODY_INCOMPLETE', received, expected ?? 'more')))
}

/** The same, as a promise. */
export function readNodeBody(req: IncomingMessage, limit: number, stream: Readable = req): Promise<BodyRead> {
  return new Promise((resolve) =>
    readNodeBodyInto(req, limit, stream, (body, error) => resolve(error === undefined ? { ok: true, body: body! } : { ok: false, error })),
  )
}
