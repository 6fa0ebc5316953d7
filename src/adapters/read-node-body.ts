import type { IncomingMessage } from 'node:http'
import type { Readable } from 'node:stream'
import { TimhookError } from '../protocol/errors.js'

export type BodyRead = { ok: true; body: Buffer } | { ok: false; error: TimhookError }

/**
 * Reads a request body up to `limit` bytes and calls `done` once. Over the limit by
 * `content-length`: refused without reading a byte. Over the limit while streaming (chunked):
 * reading stops at the limit. Never truncates: a body is whole or refused.
 * Callback-style because it runs for every callback: no promise on the hot path.
 */
export function readNodeBodyInto(req: IncomingMessage, limit: number, stream: Readable, done: (result: BodyRead) => void): void {
  const declared = req.headers['content-length']
  const expected = declared === undefined ? undefined : Number(declared)
  if (expected !== undefined && expected > limit) {
    done({ ok: false, error: new TimhookError('TIMHOOK_BODY_TOO_LARGE', limit) })
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
    done({ ok: false, error })
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
  stream.once('end', () => {
    if (finished) return
    if (expected !== undefined && received !== expected) return fail(new TimhookError('TIMHOOK_BODY_INCOMPLETE', received, expected))
    finished = true
    done({ ok: true, body: chunks !== undefined ? Buffer.concat(chunks, received) : (first ?? Buffer.alloc(0)) })
  })
  // Node emits 'error' (ECONNRESET, "aborted") when the client goes away mid-body.
  stream.once('error', () => fail(new TimhookError('TIMHOOK_BODY_INCOMPLETE', received, expected ?? 'more')))
}

/** The same, as a promise. */
export function readNodeBody(req: IncomingMessage, limit: number, stream: Readable = req): Promise<BodyRead> {
  return new Promise((resolve) => readNodeBodyInto(req, limit, stream, resolve))
}
