import type { IncomingMessage } from 'node:http'
import type { Readable } from 'node:stream'
import { TimhookError } from '../protocol/errors.js'

export type BodyRead = { ok: true; body: Buffer } | { ok: false; error: TimhookError }

/**
 * Reads a request body up to `limit` bytes. Over the limit by `content-length`: refused without
 * reading a byte. Over the limit while streaming (chunked): reading stops at the limit. Never
 * truncates: a body is whole or refused.
 */
export function readNodeBody(req: IncomingMessage, limit: number, stream: Readable = req): Promise<BodyRead> {
  const declared = req.headers['content-length']
  const expected = declared === undefined ? undefined : Number(declared)
  if (expected !== undefined && expected > limit) {
    return Promise.resolve({ ok: false, error: new TimhookError('TIMHOOK_BODY_TOO_LARGE', limit) })
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    let received = 0
    const finish = (result: BodyRead) => {
      stream.off('data', onData)
      stream.off('end', onEnd)
      stream.off('error', onError)
      stream.off('aborted', onError)
      resolve(result)
    }
    const onData = (chunk: Buffer) => {
      received += chunk.length
      if (received > limit) {
        stream.pause()
        finish({ ok: false, error: new TimhookError('TIMHOOK_BODY_TOO_LARGE', limit) })
        return
      }
      chunks.push(chunk)
    }
    const onEnd = () => {
      if (expected !== undefined && received !== expected) {
        finish({ ok: false, error: new TimhookError('TIMHOOK_BODY_INCOMPLETE', received, expected) })
        return
      }
      finish({ ok: true, body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received) })
    }
    const onError = () => finish({ ok: false, error: new TimhookError('TIMHOOK_BODY_INCOMPLETE', received, expected ?? 'more') })
    stream.on('data', onData)
    stream.on('end', onEnd)
    stream.on('error', onError)
    stream.on('aborted', onError)
  })
}
